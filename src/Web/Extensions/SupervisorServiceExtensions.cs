using Platform.Web.Hubs;
using Platform.Web.Services.Limits;
using Platform.Web.Services.Runtime;
using Platform.Web.Services.Sample;
using Platform.Web.Services.Supervisor;

namespace Platform.Web.Extensions;

public static class SupervisorServiceExtensions
{
    /// <summary>
    /// The VMM supervisor as the runtime of every VM (<see cref="IVmRuntime"/>, <see cref="IVmRuntimeInfo"/>) and as a
    /// hosted service, so it reattaches to running VMMs and starts autostart VMs when the dashboard starts.
    /// </summary>
    public static void AddVmSupervisor(this WebApplicationBuilder builder, Services.Cluster.ClusterSettings cluster)
    {
        var options = builder.Configuration.GetSection(SupervisorOptions.Section).Get<SupervisorOptions>() ?? new SupervisorOptions();
        options.Autostart ??= true;
        options.ClusterHostName = cluster.IsConfigured ? cluster.HostName : null;
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<VmmProgram>();
        var limits = builder.Configuration.GetSection(LimitsOptions.Section).Get<LimitsOptions>() ?? new LimitsOptions();
        builder.Services.AddSingleton(limits);
        builder.Services.AddSingleton(sp => new VmCgroups(
            limits, options.RuntimeRoot ?? Path.Combine(sp.GetRequiredService<PlatformOptions>().DataDirectory, "run"), sp.GetRequiredService<ILogger<VmCgroups>>()));
        builder.Services.AddSingleton(sp => new DiskOwnerLedger(
            Path.Combine(sp.GetRequiredService<PlatformOptions>().DataDirectory, "disk-owners"), sp.GetRequiredService<ILogger<DiskOwnerLedger>>()));
        builder.Services.AddSingleton<IVmmLauncher, ProcessVmmLauncher>();
        builder.Services.AddSingleton<IVmDefinitions, DatabaseVmDefinitions>();
        builder.Services.AddSingleton<VmSupervisor>();
        // Before the supervisor: its autostart then boots the sample on the very first start.
        builder.Services.AddHostedService<SampleVmSeeder>();
        builder.Services.AddHostedService<GuestImageSeeder>();
        builder.Services.AddSingleton<IVmRuntime>(sp => sp.GetRequiredService<VmSupervisor>());
        builder.Services.AddSingleton<IVmRuntimeInfo>(sp => sp.GetRequiredService<VmSupervisor>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<VmSupervisor>());
        builder.Services.AddSignalR();
        builder.Services.AddHostedService<VmHubNotifier>();
    }
}
