using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using Platform.Web.Components.Vms;
using Platform.Web.Security;
using Platform.Web.Services.Runtime;

namespace Platform.Web.Components.Console;

/// <summary>
/// What the serial and graphical console tabs share: attach a JS console module to an element while the VM runs,
/// detach it when the VM stops or the tab goes away, and show the connection's status. Each attach asks the server
/// for a fresh single-use console ticket (after checking VM.Console again), which the WebSocket must carry.
/// </summary>
public abstract class ConsoleSession : VmTabBase, IAsyncDisposable
{
    private DotNetObjectReference<ConsoleSession>? _self;
    private bool _attaching;
    private bool _disposed;

    [Inject]
    private IJSRuntime JS { get; set; } = null!;

    [Inject]
    private CurrentUser Current { get; set; } = null!;

    [Inject]
    private ConsoleTickets Tickets { get; set; } = null!;

    protected ElementReference Screen { get; set; }

    /// <summary>The JS console handle while attached.</summary>
    protected IJSObjectReference? Handle { get; private set; }

    /// <summary>"connecting", "connected", "closed" or "failed: …" as the browser reports it.</summary>
    protected string Status { get; private set; } = "connecting";

    protected bool IsRunning => State is VmPowerState.Running or VmPowerState.Paused;

    /// <summary>The JS module (under wwwroot/js) and the bridge path it opens.</summary>
    protected abstract string ModulePath { get; }

    protected abstract string BridgePath { get; }

    /// <summary>False when this console has nothing to show even while the VM runs (no display).</summary>
    protected virtual bool CanAttach => true;

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        // Renders keep coming while the module loads: one attach at a time, or the screen gets two consoles.
        if (_disposed || _attaching)
        {
            return;
        }

        if (IsRunning && CanAttach && Handle is null)
        {
            _attaching = true;
            try
            {
                Status = "connecting";
                if (await TicketedPathAsync() is not { } path)
                {
                    Status = "failed: you may not open this VM's console";
                    StateHasChanged();
                    return;
                }

                _self ??= DotNetObjectReference.Create(this);
                await using var module = await JS.InvokeAsync<IJSObjectReference>("import", ModulePath);
                Handle = await module.InvokeAsync<IJSObjectReference>("attach", Screen, path, _self);
            }
            finally
            {
                _attaching = false;
            }

            if (_disposed || !IsRunning)
            {
                await DetachAsync(); // the tab closed or the VM stopped while the console was loading
            }
        }
        else if ((!IsRunning || !CanAttach) && Handle is not null)
        {
            await DetachAsync();
            StateHasChanged();
        }
    }

    /// <summary>The bridge path with a ticket for this user and VM, or null without VM.Console (audited).</summary>
    private async Task<string?> TicketedPathAsync()
    {
        var kind = BridgePath.EndsWith("/vnc", StringComparison.Ordinal) ? ConsoleKind.Vnc : ConsoleKind.Serial;
        if (!await Current.CheckAsync(Privileges.VmConsole, Vm.Id, AuditActions.ConsoleTicket, kind.ToString().ToLowerInvariant() + " console"))
        {
            return null;
        }

        var user = await Current.GetPrincipalAsync();
        return ConsoleTickets.WebSocketPath(Vm.Id, kind, Tickets.Issue(user.UserId()!, Vm.Id, kind));
    }

    [JSInvokable]
    public Task OnConsoleStatus(string status) => InvokeAsync(() =>
    {
        Status = status;
        StateHasChanged();
    });

    /// <summary>Calls a method of the attached console; nothing when detached or the circuit is gone.</summary>
    protected async Task CallAsync(string method, params object?[] args)
    {
        if (Handle is null)
        {
            return;
        }

        try
        {
            await Handle.InvokeVoidAsync(method, args);
        }
        catch (JSDisconnectedException)
        {
            // The browser went away.
        }
    }

    private async Task DetachAsync()
    {
        var handle = Handle;
        Handle = null;
        if (handle is null)
        {
            return;
        }

        try
        {
            await handle.InvokeVoidAsync("dispose");
            await handle.DisposeAsync();
        }
        catch (JSDisconnectedException)
        {
            // The browser went away, and its console with it.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        await DetachAsync();
        _self?.Dispose();
        GC.SuppressFinalize(this);
    }
}
