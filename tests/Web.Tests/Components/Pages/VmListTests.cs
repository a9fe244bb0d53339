using Bunit;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using Platform.Web.Components.Pages;
using Platform.Web.Data;

namespace Platform.Web.Tests.Components.Pages;

public sealed class VmListTests : BunitContext
{
    private readonly SqliteConnection _connection = new("Data Source=:memory:");

    public VmListTests()
    {
        _connection.Open();
        Services.AddDbContextFactory<PlatformDbContext>(o => o.UseSqlite(_connection));
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
        using var db = Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContext();
        db.Database.Migrate();
    }

    [Fact]
    public void Shows_the_empty_state_without_machines()
    {
        var page = Render<VmList>();
        page.WaitForAssertion(() => page.Find("[data-testid=vm-list-empty]").TextContent.Should().Contain("No virtual machines yet"));
    }

    [Fact]
    public void Lists_stored_machines_and_filters_by_name()
    {
        using (var db = Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContext())
        {
            db.VirtualMachines.AddRange(
                new VirtualMachine { Name = "web-1", VcpuCount = 2, MemoryMiB = 1024 },
                new VirtualMachine { Name = "db-1", VcpuCount = 4, MemoryMiB = 4096 });
            db.SaveChanges();
        }

        var page = Render<VmList>();
        page.WaitForAssertion(() => page.FindAll("[data-testid=vm-list] tbody tr").Should().HaveCount(2));
        page.Markup.Should().Contain("4096 MiB");

        page.Find("input").Input("web");
        page.WaitForAssertion(() => page.FindAll("[data-testid=vm-list] tbody tr").Should().ContainSingle()
            .Which.TextContent.Should().Contain("web-1"));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _connection.Dispose();
    }
}
