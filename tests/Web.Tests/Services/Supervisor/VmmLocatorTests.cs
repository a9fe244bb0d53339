using Platform.Web.Services.Supervisor;

namespace Platform.Web.Tests.Services.Supervisor;

/// <summary>Which platform-vmm the dashboard launches: the NativeAOT publish unless it is missing or stale, and why.</summary>
public sealed class VmmLocatorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("vmm-locator-").FullName;

    public VmmLocatorTests() => VmmPublishFreshnessTests.CopyInputsList(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string AppDirectory => Path.Combine(_root, "src", "Web", "bin", "Release", "net10.0");

    private string Published => Path.Combine(_root, "artifacts", "vmm", "platform-vmm");

    private string JitBuild => Path.Combine(_root, "src", "Engine", "Vmm", "bin", "Release", "net10.0", "platform-vmm");

    private string Source => Path.Combine(_root, "src", "Engine", "Machine", "MachineInstance.cs");

    private static void Make(string path, DateTime at)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "x");
        File.SetLastWriteTimeUtc(path, at);
    }

    private void MakeJit(DateTime at)
    {
        Make(JitBuild, at);
        Make(JitBuild + ".dll", at); // the JIT apphost's assembly beside it
    }

    private VmmBinary Locate(string? configured = null, string? path = null) => VmmLocator.Locate(configured, AppDirectory, _root, path);

    [Fact]
    public void A_current_NativeAOT_publish_wins_over_the_JIT_build()
    {
        var t = DateTime.UtcNow.AddHours(-1);
        Make(Source, t);
        MakeJit(t.AddMinutes(1));
        Make(Published, t.AddMinutes(2));

        var binary = Locate();

        binary.Path.Should().Be(Published);
        binary.Kind.Should().Be(VmmBuildKind.NativeAot);
        binary.Reason.Should().Contain("NativeAOT publish");
    }

    [Fact]
    public void A_publish_older_than_a_source_file_gives_way_to_the_JIT_build_and_says_which_file()
    {
        var t = DateTime.UtcNow.AddHours(-1);
        Make(Published, t);
        Make(Source, t.AddMinutes(1));
        MakeJit(t.AddMinutes(2));

        var binary = Locate();

        binary.Path.Should().Be(JitBuild);
        binary.Kind.Should().Be(VmmBuildKind.Jit);
        binary.Reason.Should().Contain(Path.Combine("src", "Engine", "Machine", "MachineInstance.cs")).And.Contain("scripts/publish-vmm.sh");
    }

    [Fact]
    public void Without_a_publish_the_JIT_build_runs_and_the_reason_says_how_to_publish()
    {
        MakeJit(DateTime.UtcNow);

        var binary = Locate();

        binary.Kind.Should().Be(VmmBuildKind.Jit);
        binary.Reason.Should().Contain("no NativeAOT publish");
    }

    [Fact]
    public void The_publish_beside_an_installed_dashboard_comes_before_the_checkout()
    {
        string beside = Path.Combine(AppDirectory, "vmm", "platform-vmm");
        Make(beside, DateTime.UtcNow);
        Make(Published, DateTime.UtcNow);

        Locate().Should().Be(new VmmBinary(beside, VmmBuildKind.NativeAot, "published beside the dashboard (vmm/)"));
    }

    [Fact]
    public void A_configured_path_wins_and_a_missing_one_is_named()
    {
        Make(Published, DateTime.UtcNow);
        string configured = Path.Combine(_root, "elsewhere", "platform-vmm");

        Locate(configured).Path.Should().BeNull();
        Locate(configured).Reason.Should().Contain(configured).And.Contain("does not exist");

        Make(configured, DateTime.UtcNow);
        Locate(configured).Path.Should().Be(configured);
    }

    [Fact]
    public void Nothing_found_says_how_to_get_one()
    {
        var binary = Locate(path: Path.Combine(_root, "empty"));

        binary.Path.Should().BeNull();
        binary.Reason.Should().Contain("./platform run");
    }
}
