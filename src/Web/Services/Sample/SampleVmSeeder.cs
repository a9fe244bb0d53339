using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;
using Platform.Web.Extensions;
using Platform.Web.Services.Vms;

namespace Platform.Web.Services.Sample;

/// <summary>
/// On a dashboard's first start (<c>Platform:SeedSample</c>, which <c>./platform run</c> turns on), adds one VM that
/// boots at once, so a newcomer sees a working console within a minute: the Debian kernel and initramfs from
/// scripts/guest-images.sh with a shell on the console where KVM is hardware, and a test guest from tests/guests where
/// it is PVM (a stock kernel cannot boot there). It runs once per data folder; deleting the sample keeps it deleted.
/// Registered before the supervisor, whose autostart then boots it.
/// </summary>
internal sealed partial class SampleVmSeeder(
    IDbContextFactory<PlatformDbContext> dbFactory, PlatformOptions options, IConfiguration configuration, IVmEventLog events,
    ILogger<SampleVmSeeder> logger) : IHostedService
{
    public const string MarkerFileName = "sample-seeded";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        string marker = Path.Combine(options.DataDirectory, MarkerFileName);
        if (!configuration.GetValue("Platform:SeedSample", false) || File.Exists(marker))
        {
            return;
        }

        var sample = Choose(HostKvm.DetectKind());
        await File.WriteAllTextAsync(marker, DateTimeOffset.UtcNow.ToString("O") + "\n", cancellationToken);
        if (sample is null)
        {
            Log.NothingToSeed(logger);
            return;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.VirtualMachines.AnyAsync(vm => vm.Name == sample.Name, cancellationToken))
        {
            return;
        }

        db.VirtualMachines.Add(sample);
        await db.SaveChangesAsync(cancellationToken);
        Log.Seeded(logger, sample.Name, sample.KernelPath!);
        await events.AddAsync(new VmEvent
        {
            VmId = sample.Id, VmName = sample.Name, Kind = VmEventKinds.Created, Result = VmEventResult.Succeeded,
            Message = $"Sample VM {sample.Name} created on first start ({sample.Description})",
        }, cancellationToken);
    }

    /// <summary>The sample for this host, or null when neither the guest images nor the test guests are built.</summary>
    internal static VirtualMachine? Choose(KvmKind kind)
    {
        string images = Path.Combine(
            Environment.GetEnvironmentVariable("PLATFORM_CACHE_DIR") is { Length: > 0 } cache ? cache
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "platform"),
            "images");
        string kernel = Path.Combine(images, "vmlinuz");
        string initrd = Path.Combine(images, "initramfs.cpio.gz");
        if (kind is KvmKind.HardwareIntel or KvmKind.HardwareAmd && File.Exists(kernel) && File.Exists(initrd))
        {
            return new VirtualMachine
            {
                Name = "debian-sample",
                Description = "Debian's kernel with a busybox initramfs and a shell on the serial console (sample)",
                VcpuCount = 1,
                MemoryMiB = 512,
                KernelPath = kernel,
                InitrdPath = initrd,
                CommandLine = "console=ttyS0",
                DisplayEnabled = true,
                Autostart = true,
                OnReboot = RebootPolicy.Restart,
            };
        }

        // PVM (or no images yet): a test guest that draws on the screen if it is built, else one that echoes the serial console.
        foreach (var (guest, what) in new[]
                 {
                     ("fb", "draws a test picture on the screen and echoes typed keys"),
                     ("echo", "echoes what you type on the serial console in capitals"),
                 })
        {
            if (SourceTree.TestGuest(guest) is { } path)
            {
                return new VirtualMachine
                {
                    Name = "test-guest-sample",
                    Description = $"The {guest} test guest: {what} (sample; this host's KVM cannot boot a stock Linux kernel)",
                    VcpuCount = 1,
                    MemoryMiB = 64,
                    KernelPath = path,
                    CommandLine = "",
                    DisplayEnabled = guest == "fb",
                    Input = guest == "fb" ? InputKind.Virtio : null,
                    Autostart = true,
                    OnReboot = RebootPolicy.Restart,
                };
            }
        }

        return null;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Sample VM {Name} created ({Kernel})")]
        public static partial void Seeded(ILogger logger, string name, string kernel);

        [LoggerMessage(LogLevel.Warning, "No sample VM: neither the guest images nor the test guests are built (./platform run builds them)")]
        public static partial void NothingToSeed(ILogger logger);
    }
}
