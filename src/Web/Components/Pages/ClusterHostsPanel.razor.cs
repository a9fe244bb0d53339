using Microsoft.AspNetCore.Components;
using MudBlazor;
using Platform.Web.Services.Cluster;

namespace Platform.Web.Components.Pages;

/// <summary>The cluster's hosts on the Host page, read again every few seconds (heartbeats and states move on their own).</summary>
public partial class ClusterHostsPanel
{
    /// <summary>As often as hosts write their heartbeat, so a stopped host shows within about two periods.</summary>
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stop = new();
    private IReadOnlyList<ClusterHost>? _hosts;
    private string? _error;

    [Inject]
    public required IClusterHosts Hosts { get; set; }

    protected override async Task OnInitializedAsync()
    {
        await LoadAsync();
        _ = RefreshLoopAsync();
    }

    private async Task RefreshLoopAsync()
    {
        using var timer = new PeriodicTimer(RefreshInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                await InvokeAsync(async () =>
                {
                    await LoadAsync();
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException)
        {
            // The page went away.
        }
    }

    private async Task LoadAsync()
    {
        try
        {
            _hosts = await Hosts.ListAsync(_stop.Token);
            _error = null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The last list stays on screen with the reason above it; the next refresh tries again.
            _error = ex.Message;
            _hosts ??= [];
        }
    }

    private static Color ColorOf(ClusterHostState state) => state switch
    {
        ClusterHostState.Active => Color.Success,
        ClusterHostState.Joining or ClusterHostState.ShuttingDown => Color.Warning,
        _ => Color.Error,
    };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
