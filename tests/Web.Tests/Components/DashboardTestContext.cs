using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using Platform.Web.Data;
using Platform.Web.Security;
using Microsoft.Extensions.Time.Testing;
using Platform.Web.Services.History;
using Platform.Web.Services.Host;
using Platform.Web.Services.Images;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;
using Platform.Web.Tests.Fakes;

namespace Platform.Web.Tests.Components;

/// <summary>
/// The shared bUnit base: MudBlazor's services, and the dashboard's real services over a migrated SQLite file,
/// with the recording runtime and a host of known size. <see cref="Snackbars"/> shows what the user was told.
/// </summary>
public abstract class DashboardTestContext : BunitContext
{
    protected DashboardTestContext()
    {
        Services.AddMudServices(o => o.SnackbarConfiguration.MaxDisplayedSnackbars = 50);
        Services.AddSingleton(new Platform.Web.Services.Cluster.ClusterSettings());
        Services.AddSingleton(Db.Factory);
        Services.AddSingleton(Db.Options);
        Services.AddSingleton<IHostInfo>(Db.Host);
        Services.AddSingleton<IVmRuntime>(Db.Runtime);
        Services.AddSingleton<IVmRuntimeInfo>(RuntimeInfo);
        Services.AddSingleton(Db.Events);
        Services.AddSingleton(Db.Tasks);
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<Platform.Web.Services.Cluster.IClusterHosts>(sp => new Platform.Web.Services.Cluster.SingleHost(TimeProvider.System));
        Services.AddSingleton(Db.Images);
        Services.AddSingleton(Db.Vms);
        Services.AddSingleton(Db.DiskFiles);
        Services.AddSingleton(new Platform.Web.Services.Disks.VmDiskService(
            Db.Vms, Db.Runtime, Db.DiskFiles, Db.Images, new Platform.Web.Services.Disks.ControlSocketDiskResizer(RuntimeInfo), Db.Events, Db.Tasks));
        Services.AddSingleton(new Platform.Web.Services.Disks.VmSnapshotService(Db.Factory, Db.Vms, Db.Runtime, Db.DiskFiles, Db.Images, Db.Events, Db.Tasks));
        Services.AddSingleton(new Platform.Web.Services.CloudInit.CloudInitService(Db.Factory, Db.DiskFiles, Db.Events,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Platform.Web.Services.CloudInit.CloudInitService>.Instance));
        Services.AddSingleton(sp => new VmCloneService(Db.Vms, Db.Runtime, sp.GetRequiredService<Platform.Web.Services.Disks.VmDiskService>(), Db.DiskFiles,
            Db.Images, Db.Events, Db.Options, Microsoft.Extensions.Logging.Abstractions.NullLogger<VmCloneService>.Instance));
        Services.AddSingleton<IRunningCdrom>(Drive);
        Services.AddSingleton(new VmCdromService(Db.Factory, Db.Runtime, Drive, Db.Images, Db.Events));
        Services.AddSingleton<IRunningNics>(Nics);
        Services.AddSingleton(new VmNicLinkService(Db.Factory, Db.Runtime, Nics, Db.Events));
        Services.AddSingleton(Db.Networks);
        Services.AddSingleton(Db.Quotas);
        Services.AddSingleton(new Platform.Web.Services.Quotas.QuotaAdministration(Db.Quotas, Db.Audit));
        Services.AddSingleton(new Platform.Web.Services.Limits.VmCgroups(
            new Platform.Web.Services.Limits.LimitsOptions { Enabled = false }, Db.DataDirectory,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Platform.Web.Services.Limits.VmCgroups>.Instance));
        Services.AddSingleton<Platform.Web.Services.Networks.IHostBridges>(Db.Bridges);
        Services.AddSingleton(Db.Power);
        Services.AddSingleton(Db.Permissions);
        Services.AddSingleton(Db.Audit);
        Services.AddHttpContextAccessor();
        Services.AddScoped<CurrentUser>();
        Services.AddScoped<Platform.Web.Components.Vms.PowerConfirmations>();
        Services.AddScoped<Platform.Web.Components.BrowserTimeZone>();
        Services.AddSingleton(new ConsoleTickets(new SecurityOptions(), TimeProvider.System));
        History = new HistoryStore(Path.Combine(Db.DataDirectory, "history"));
        Recorder = new HistoryRecorder(RuntimeInfo, Db.Runtime, Db.Events, History, new FixedHostSampler(), Clock,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<HistoryRecorder>.Instance);
        Services.AddSingleton(History);
        Services.AddSingleton(Recorder);
        Services.AddSingleton<TimeProvider>(Clock);
        Services.AddCascadingValue(_ => Access);
        Authorization = AddAuthorization();
        ActAs(Db.AdminId, "admin");
        JSInterop.Mode = JSRuntimeMode.Loose;
    }

    protected BunitAuthorizationContext Authorization { get; }

    /// <summary>The signed-in user the rendered components see (the administrator unless a test says otherwise);
    /// call before the first render.</summary>
    protected string UserId { get; private set; } = "";

    /// <summary>What <see cref="UserId"/> may do, as the pages get it.</summary>
    protected UserAccess Access { get; private set; } = UserAccess.None;

    protected void ActAs(string userId, string name)
    {
        UserId = userId;
        // Off the renderer's thread: nothing here may wait on it.
        Access = Task.Run(() => Db.Permissions.GetAccessAsync(userId)).GetAwaiter().GetResult();
        Authorization.SetAuthorized(name);
        Authorization.SetClaims(new Claim(ClaimTypes.NameIdentifier, userId));
    }

    protected TestDatabase Db { get; } = new();

    protected FakeVmRuntimeInfo RuntimeInfo { get; } = new();

    /// <summary>Running VMs' CD-ROM drives, as their VMMs would keep them.</summary>
    protected FakeRunningCdrom Drive { get; } = new();

    /// <summary>Running VMs' NIC cables, as their VMMs would keep them.</summary>
    protected FakeRunningNics Nics { get; } = new();

    /// <summary>The clock the history charts read by; the recorder is not started (tests call SampleOnce).</summary>
    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));

    protected HistoryStore History { get; }

    protected HistoryRecorder Recorder { get; }

    protected RecordingVmRuntime Runtime => Db.Runtime;

    protected static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    protected IEnumerable<string?> Snackbars => Services.GetRequiredService<ISnackbar>().ShownSnackbars.Select(s => s.Message);

    protected async Task<VirtualMachine> CreateVmAsync(string name, int vcpus = 1, int memoryMiB = 512, string? description = null)
    {
        var result = await Db.Vms.CreateAsync(
            new VmDefinitionInput { Name = name, VcpuCount = vcpus, MemoryMiB = memoryMiB, Description = description, KernelPath = "/boot/vmlinuz" }, Ct);
        result.Succeeded.Should().BeTrue(result.Message);
        return result.Value!;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            History.Dispose();
            Db.Dispose();
        }
    }
}
