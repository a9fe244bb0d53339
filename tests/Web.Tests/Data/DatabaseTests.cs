using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Platform.Web.Data;

namespace Platform.Web.Tests.Data;

public sealed class DatabaseTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("platform-db-").FullName;
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private PlatformDbContext Open() => new(new DbContextOptionsBuilder<PlatformDbContext>()
        .UseSqlite($"Data Source={Path.Combine(_folder, "p.db")};Pooling=False")
        .AddInterceptors(new SqlitePragmaInterceptor())
        .Options);

    [Fact]
    public async Task Every_connection_runs_with_synchronous_full()
    {
        await using var db = Open();
        await db.Database.OpenConnectionAsync(_ct);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "PRAGMA synchronous;";
        Convert.ToInt32(await command.ExecuteScalarAsync(_ct)).Should().Be(2, "2 is FULL");
    }

    [Fact]
    public async Task Migrating_an_initial_database_keeps_its_vms_with_sensible_new_columns()
    {
        await using (var db = Open())
        {
            await db.GetService<IMigrator>().MigrateAsync("InitialCreate", _ct);
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(_folder, "p.db")};Pooling=False");
            await connection.OpenAsync(_ct);
            await using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO VirtualMachines (Id, Name, VcpuCount, MemoryMiB, KernelPath, Autostart, CreatedAt, ConcurrencyStamp)
                VALUES ('6f1c1c1e-0000-0000-0000-000000000001', 'old', 1, 256, '/boot/k', 0, '2026-01-02 03:04:05+00:00', '6f1c1c1e-0000-0000-0000-000000000002');
                """;
            await insert.ExecuteNonQueryAsync(_ct);
        }

        await using (var db = Open())
        {
            await db.Database.MigrateAsync(_ct);
            var vm = await db.VirtualMachines.SingleAsync(_ct);
            (vm.Name, vm.BootMode, vm.OnReboot, vm.DisplayEnabled).Should().Be(("old", BootMode.Kernel, RebootPolicy.Exit, true));
            vm.UpdatedAt.Should().Be(vm.CreatedAt);
            vm.Input.Should().Be(InputKind.Virtio, "a VM with a display had the virtio tablet and keyboard before the setting existed");
            vm.OnCrash.Should().Be(CrashPolicy.Stay, "a crashed VM stayed crashed before the policy existed");
            (await db.VirtualMachines.AnyAsync(v => v.Name == "OLD", _ct)).Should().BeTrue("names compare without regard to case");
        }
    }

    [Fact]
    public async Task Migrating_to_input_devices_gives_virtio_to_vms_with_a_display_and_none_to_the_others()
    {
        await using (var db = Open())
        {
            await db.GetService<IMigrator>().MigrateAsync("AccessControl", _ct);
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(_folder, "p.db")};Pooling=False");
            await connection.OpenAsync(_ct);
            await using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO VirtualMachines (Id, Name, VcpuCount, MemoryMiB, BootMode, KernelPath, DisplayEnabled, Autostart, OnReboot, CreatedAt, UpdatedAt, ConcurrencyStamp)
                VALUES ('6f1c1c1e-0000-0000-0000-000000000011', 'screen', 1, 256, 'Kernel', '/boot/k', 1, 0, 'Restart', '2026-01-02 03:04:05+00:00', '2026-01-02 03:04:05+00:00', '6f1c1c1e-0000-0000-0000-000000000012'),
                       ('6f1c1c1e-0000-0000-0000-000000000021', 'serial', 1, 256, 'Kernel', '/boot/k', 0, 0, 'Restart', '2026-01-02 03:04:05+00:00', '2026-01-02 03:04:05+00:00', '6f1c1c1e-0000-0000-0000-000000000022');
                """;
            await insert.ExecuteNonQueryAsync(_ct);
        }

        await using (var db = Open())
        {
            await db.Database.MigrateAsync(_ct);
            var inputs = await db.VirtualMachines.OrderBy(v => v.Name).Select(v => new { v.Name, v.Input }).ToListAsync(_ct);
            inputs.Should().Equal(new { Name = "screen", Input = (InputKind?)InputKind.Virtio }, new { Name = "serial", Input = (InputKind?)null });
        }
    }
}
