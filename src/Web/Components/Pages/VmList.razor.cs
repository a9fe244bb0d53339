using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Platform.Web.Data;

namespace Platform.Web.Components.Pages;

public partial class VmList
{
    private List<VirtualMachine>? _machines;

    [Inject]
    public required IDbContextFactory<PlatformDbContext> DbFactory { get; set; }

    private string Search { get; set; } = "";

    private IEnumerable<VirtualMachine> Filtered => (_machines ?? []).Where(vm =>
        Search.Length == 0 || vm.Name.Contains(Search, StringComparison.OrdinalIgnoreCase));

    protected override async Task OnInitializedAsync()
    {
        await using var db = await DbFactory.CreateDbContextAsync();
        _machines = await db.VirtualMachines.AsNoTracking().OrderBy(vm => vm.Name).ToListAsync();
    }
}
