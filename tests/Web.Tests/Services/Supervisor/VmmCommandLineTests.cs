using Platform.Engine.Machine;
using Platform.Web.Data;
using Platform.Web.Services.Supervisor;

namespace Platform.Web.Tests.Services.Supervisor;

public sealed class VmmCommandLineTests : IDisposable
{
    private readonly string _kernel = Path.GetTempFileName();

    public void Dispose() => File.Delete(_kernel);

    private IReadOnlyList<string> Build(bool display, InputKind? input) => VmmCommandLine.Build(
        new VirtualMachine { Name = "cli", KernelPath = _kernel, DisplayEnabled = display, Input = input },
        _ => throw new InvalidOperationException("no library images here"), "/run/vm");

    /// <summary>The value after <paramref name="option"/>, or null when the option is absent.</summary>
    private static string? ValueOf(IReadOnlyList<string> args, string option)
    {
        int at = args.ToList().IndexOf(option);
        return at < 0 ? null : args[at + 1];
    }

    [Theory]
    [InlineData(InputKind.Virtio, "virtio")]
    [InlineData(InputKind.Ps2, "ps2")]
    [InlineData(null, "virtio")] // a row stored before the setting existed: what platform-vmm did then
    public void A_vm_with_a_display_says_which_input_devices_it_has(InputKind? input, string expected)
    {
        var args = Build(display: true, input);
        ValueOf(args, "--display").Should().Be("std");
        ValueOf(args, "--input").Should().Be(expected);
        args.Count(a => a == "--input").Should().Be(1);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(InputKind.Ps2)]
    public void A_vm_without_a_display_never_passes_input_which_platform_vmm_would_refuse(InputKind? input)
    {
        var args = Build(display: false, input);
        ValueOf(args, "--display").Should().Be("none");
        args.Should().NotContain("--input");
    }
}
