using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

// The data folder holds password and token hashes and the guests' disks: only the dashboard's user may read it.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DataFolderPermissionsTests : IDisposable
{
    private const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Open = Folder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly string _root = Directory.CreateTempSubdirectory("platform-perm-test-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static void Start(string dataDirectory)
    {
        using var factory = new PlatformAppFactory();
        using var app = factory.WithWebHostBuilder(b => b.UseSetting("Platform:DataDirectory", dataDirectory));
        // Starting the host runs the migrations; a query makes sure the database files exist.
        using var scope = app.Services.CreateScope();
        using var db = scope.ServiceProvider.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<PlatformDbContext>>().CreateDbContext();
        db.Users.Count().Should().BePositive();
    }

    [Fact]
    public void A_first_start_makes_the_data_folder_0700_and_the_database_0600()
    {
        string data = Path.Combine(_root, "fresh");

        Start(data);

        File.GetUnixFileMode(data).Should().Be(Folder);
        foreach (string file in Directory.GetFiles(data, "platform.db*"))
        {
            File.GetUnixFileMode(file).Should().Be(File0600, $"{Path.GetFileName(file)} holds password and token hashes");
        }

        Directory.GetFiles(data, "platform.db*").Should().Contain(f => f.EndsWith("-wal", StringComparison.Ordinal), "the WAL file counts too");
    }

    [Fact]
    public void A_start_mends_an_older_install_s_open_folder_and_files()
    {
        string data = Path.Combine(_root, "old");
        Directory.CreateDirectory(Path.Combine(data, "images"));
        string image = Path.Combine(data, "images", "old.img");
        File.WriteAllBytes(image, [1, 2, 3]);
        File.SetUnixFileMode(image, File0600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetUnixFileMode(Path.Combine(data, "images"), Open);
        File.SetUnixFileMode(data, Open);

        Start(data);

        File.GetUnixFileMode(data).Should().Be(Folder);
        File.GetUnixFileMode(Path.Combine(data, "images")).Should().Be(Folder);
        File.GetUnixFileMode(image).Should().Be(File0600);
        File.GetUnixFileMode(Path.Combine(data, "platform.db")).Should().Be(File0600);
    }
}
