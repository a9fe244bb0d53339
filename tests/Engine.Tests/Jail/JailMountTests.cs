using Platform.Engine.Jail;
using Platform.Engine.Machine;
using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Jail;

// What the jail's root holds (docs/architecture.md, Confinement). These tests run in the JIT test host, as a JIT build
// of platform-vmm runs: the .NET host lists the folders it loads assemblies from, and the jail must bring them in, or
// the first assembly loaded after the jail is not found (the control server's, which left the VMM mute).
public sealed class JailMountTests
{
    private static readonly MachineConfig Config = new() { KernelPath = TestGuests.Path("echo"), MemoryBytes = 64ul << 20, Display = DisplayKind.None };

    [Fact]
    public void A_jit_build_gets_its_runtimes_folder_and_its_own_read_only_and_no_file_inside_them_twice()
    {
        var mounts = JailMount.Collect(Config, runtimeDirectory: null);

        string runtime = Path.TrimEndingDirectorySeparator(Path.GetDirectoryName(typeof(object).Assembly.Location)!);
        string own = Path.TrimEndingDirectorySeparator(Path.GetDirectoryName(typeof(JailMount).Assembly.Location)!);
        foreach (string folder in new[] { runtime, own })
        {
            mounts.Should().ContainSingle(m => m.Path == folder)
                .Which.Should().Match<JailMount>(m => m.Directory && !m.Writable && m.Executable, $"{folder} comes in, read-only, its native libraries mappable");
        }

        File.Exists(Path.Combine(runtime, "System.Threading.Channels.dll")).Should().BeTrue("the assembly the VMM once missed is in that folder");
        mounts.Where(m => !m.Directory).Should().NotContain(m => m.Path.StartsWith(runtime + "/", StringComparison.Ordinal) || m.Path.StartsWith(own + "/", StringComparison.Ordinal),
            "a file the folder brings needs no mount of its own (mounting one would create it inside the host's folder)");
        mounts.Should().Contain(m => m.Path == TestGuests.Path("echo") && !m.Directory && !m.Writable && !m.Executable);
    }
}
