using Microsoft.AspNetCore.Components;
using Platform.Web.Services.CloudInit;

namespace Platform.Web.Components.Vms;

/// <summary>A NIC as the network fields name it: its position, a label ("NIC 1 · default · 52:54:00:…") and its network's known subnet.</summary>
public sealed record CloudInitNicChoice(int Position, string Label, string? Subnet);

/// <summary>
/// Edits <see cref="Networks"/> in place, one entry per NIC of <see cref="Nics"/> (added as DHCP where missing, dropped
/// for NICs that are gone), so the list is what <see cref="CloudInitNetworkRules"/> checks and the API takes.
/// </summary>
public partial class CloudInitNetworkFields
{
    [Parameter, EditorRequired]
    public List<CloudInitNicInput> Networks { get; set; } = [];

    [Parameter, EditorRequired]
    public IReadOnlyList<CloudInitNicChoice> Nics { get; set; } = [];

    /// <summary>The problem with a field, by its key relative to the settings (<c>networks[0].ipv4Address</c>); null: none.</summary>
    [Parameter]
    public Func<string, string?> ErrorOf { get; set; } = _ => null;

    /// <summary>Called with a field's key when the user changes it (so the page can clear what the server said of it).</summary>
    [Parameter]
    public EventCallback<string> OnChanged { get; set; }

    [Parameter]
    public bool ReadOnly { get; set; }

    protected override void OnParametersSet()
    {
        Networks.RemoveAll(n => Nics.All(nic => nic.Position != n.Position));
        foreach (var nic in Nics.Where(nic => Networks.All(n => n.Position != nic.Position)))
        {
            Networks.Add(new CloudInitNicInput { Position = nic.Position });
        }
    }

    /// <summary>"a, b c" as ["a", "b", "c"].</summary>
    public static List<string> SplitList(string? text) =>
        [.. (text ?? "").Split([',', ' ', ';', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private CloudInitNicInput EntryFor(int position) => Networks.First(n => n.Position == position);

    private string? Error(string key) => ErrorOf(key);

    private Task Change(CloudInitNicInput entry, Action<CloudInitNicInput> change, string key)
    {
        change(entry);
        return OnChanged.InvokeAsync(key);
    }
}
