using System.Net;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Endpoints;

public sealed class HealthEndpointTests : IClassFixture<PlatformAppFactory>
{
    private readonly PlatformAppFactory _factory;

    public HealthEndpointTests(PlatformAppFactory factory) => _factory = factory;

    [Fact]
    public async Task Healthz_reports_healthy_once_the_database_is_migrated()
    {
        using var client = _factory.CreateClient();
        var response = await client.GetAsync("/healthz", TestContext.Current.CancellationToken);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Be("Healthy");
        File.Exists(Path.Combine(_factory.DataDirectory, "platform.db")).Should().BeTrue("the app creates its SQLite file");
    }

    [Fact]
    public async Task Vm_list_page_renders_with_the_empty_state()
    {
        var (browser, _) = await TestAccounts.SignInAsync(_factory, TestAccounts.AdminName, TestAccounts.AdminPassword);
        using var client = browser;
        string html = await client.GetStringAsync("/vms", TestContext.Current.CancellationToken);
        html.Should().Contain("Virtual machines").And.Contain("No virtual machines yet");
    }

    [Fact]
    public async Task Unknown_address_gets_404()
    {
        using var client = _factory.CreateClient();
        var response = await client.GetAsync("/no/such/page", TestContext.Current.CancellationToken);
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
