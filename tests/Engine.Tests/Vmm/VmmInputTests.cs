using Platform.Engine.Tests.Infrastructure;

namespace Platform.Engine.Tests.Vmm;

// platform-vmm's --input (and vm.json's "input"): the display's virtio tablet and keyboard, or the PS/2 keyboard alone.
public sealed class VmmInputTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("pvminput-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("--input must be virtio or ps2 (got usb)", "--input", "usb")]
    [InlineData("--input (input): chooses the display's input devices: leave it out when display is none", "--display", "none", "--input", "virtio")]
    public async Task Mistakes_are_usage_errors(string message, params string[] args)
    {
        var (code, _, stderr) = await VmmProcess.RunAsync(Timeout, ["--kernel", TestGuests.Path("pci"), .. args]);
        code.Should().Be(64);
        stderr.Should().Contain(message);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("virtio", true)]
    [InlineData("ps2", false)]
    public async Task The_config_file_chooses_the_input_devices(string? input, bool virtio)
    {
        string config = Path.Combine(_dir, "vm.json");
        string member = input is null ? "" : $", \"input\": \"{input}\"";
        await File.WriteAllTextAsync(config, $$"""{ "kernel": "{{TestGuests.Path("pci")}}", "memory_mib": 64{{member}} }""", TestContext.Current.CancellationToken);

        var (code, stdout, stderr) = await VmmProcess.RunAsync(Timeout, "--config", config);
        code.Should().Be(2, $"the guest passes and resets (stderr: {stderr})");
        stdout.Should().Contain("PLATFORM-TEST pci PASS");
        if (virtio)
        {
            stdout.Should().Contain("pci: 00:02.0 1af4:1052").And.Contain("pci: 00:03.0 1af4:1052");
        }
        else
        {
            stdout.Should().NotContain("1af4:1052");
        }
    }

    [Fact]
    public async Task Help_describes_the_option()
    {
        var (code, stdout, _) = await VmmProcess.RunAsync(Timeout, "--help");
        code.Should().Be(0);
        stdout.Should().Contain("--input virtio|ps2");
    }
}
