using Platform.Web.Services.History;

namespace Platform.Web.Extensions;

public static class HistoryServiceExtensions
{
    /// <summary>The VMs' and the host's history: its files, the recorder that samples every 10 s, the host's sampler.</summary>
    public static IServiceCollection AddPlatformHistory(this IServiceCollection services)
    {
        services.AddSingleton<HistoryStore>();
        services.AddSingleton<IHostSampler, ProcHostSampler>();
        services.AddSingleton<HistoryRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<HistoryRecorder>());
        return services;
    }
}
