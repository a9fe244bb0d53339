using System.Diagnostics;
using Platform.Web.Services;
using Platform.Web.Services.Supervisor;

namespace Platform.Web.Tests.Services.Supervisor;

/// <summary>
/// "Is the NativeAOT publish stale?" is answered by one list (scripts/vmm-inputs) read by the publish script and by
/// <see cref="VmmPublishFreshness"/> (the dashboard and the engine tests): both are asked about the same trees here.
/// </summary>
public sealed class VmmPublishFreshnessTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("vmm-freshness-").FullName;
    private readonly DateTime _publishedAt = DateTime.UtcNow.AddHours(-1);

    public VmmPublishFreshnessTests()
    {
        CopyInputsList(_root);
        File.Copy(Path.Combine(SourceTree.Root!, "scripts", "publish-vmm.sh"), Path.Combine(_root, "scripts", "publish-vmm.sh"));
        Write(Path.Combine("artifacts", "vmm", "platform-vmm"), _publishedAt);
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(Path.Combine(_root, "artifacts", "vmm", "platform-vmm"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Write(Path.Combine("src", "Engine", "Vmm", "Program.cs"), _publishedAt.AddMinutes(-5));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Puts the checkout's own inputs list into a fake checkout.</summary>
    internal static void CopyInputsList(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "scripts"));
        File.Copy(Path.Combine(SourceTree.Root!, VmmPublishFreshness.InputsFile), Path.Combine(root, VmmPublishFreshness.InputsFile));
    }

    private void Write(string relative, DateTime at)
    {
        string path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "x");
        File.SetLastWriteTimeUtc(path, at);
    }

    private string ScriptSays()
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(_root, "scripts", "publish-vmm.sh"));
        start.ArgumentList.Add("--check");
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        process.ExitCode.Should().Be(output.Length == 0 ? 0 : 1, process.StandardError.ReadToEnd());
        return output;
    }

    [Theory]
    [InlineData("src/Engine/Machine/MachineInstance.cs")]
    [InlineData("src/Devices/Devices.csproj")]
    [InlineData("src/Contracts/Config/schema.json")]
    [InlineData("Directory.Build.props")]
    [InlineData("global.json")]
    public void An_input_changed_after_the_publish_makes_it_stale_for_both(string input)
    {
        Write(input, _publishedAt.AddMinutes(1));

        VmmPublishFreshness.NewerInput(_root, _publishedAt).Should().Be(input);
        ScriptSays().Should().Be(input);
    }

    [Theory]
    [InlineData("src/Engine/obj/Release/Engine.AssemblyInfo.cs")]
    [InlineData("src/Devices/bin/Release/net10.0/Devices.deps.json")]
    [InlineData("src/Engine/README.md")]
    [InlineData("src/Web/Program.cs")]
    [InlineData("tests/Engine.Tests/SomeTests.cs")]
    public void Build_outputs_other_files_and_other_projects_leave_it_current_for_both(string other)
    {
        Write(other, _publishedAt.AddMinutes(1));

        VmmPublishFreshness.NewerInput(_root, _publishedAt).Should().BeNull();
        ScriptSays().Should().BeEmpty();
    }
}
