using System.Reflection;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Endpoints;
using Platform.Web.Hubs;
using Platform.Web.Security;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>
/// Guards over everything the app maps, so a new endpoint or hub method cannot slip past the access checks: each
/// declares its privilege, and one under <c>/vms/{id}</c> checks it on that VM (so a hidden VM is 404).
/// </summary>
public sealed class ApiSurfaceTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private List<RouteEndpoint> ApiEndpoints() =>
        factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith(Platform.Web.Endpoints.ApiEndpoints.Prefix, StringComparison.Ordinal) == true)
            .ToList();

    [Fact]
    public void Every_api_endpoint_declares_its_privilege()
    {
        var endpoints = ApiEndpoints();

        endpoints.Should().HaveCountGreaterThan(40);
        endpoints.Where(e => e.Metadata.GetMetadata<PrivilegeRequirement>() is null).Select(e => e.RoutePattern.RawText)
            .Should().BeEmpty("an endpoint without a privilege is refused to everyone");
    }

    [Fact]
    public void Every_endpoint_of_one_vm_checks_a_vm_privilege_on_it()
    {
        var ofOneVm = ApiEndpoints().Where(e => e.RoutePattern.RawText!.StartsWith("/api/v1/vms/{id", StringComparison.Ordinal)).ToList();

        ofOneVm.Should().HaveCountGreaterThan(8);
        ofOneVm.Where(e => (e.Metadata.GetMetadata<PrivilegeRequirement>()!.Privileges & Privileges.VmScoped) == 0)
            .Select(e => e.RoutePattern.RawText)
            .Should().BeEmpty("only a VM privilege makes the filter look at the VM in the route, and answer 404 for a hidden one");
    }

    [Fact]
    public void Every_hub_method_declares_its_privilege()
    {
        var methods = typeof(VmHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly);

        methods.Should().NotBeEmpty();
        methods.Where(m => m.GetCustomAttribute<HubPrivilegeAttribute>() is null).Select(m => m.Name).Should().BeEmpty();
        methods.Where(m => m.GetParameters().Any(p => p.ParameterType == typeof(Guid)) && m.GetParameters().All(p => p.Name != "vmId"))
            .Select(m => m.Name).Should().BeEmpty("the filter finds the VM by the argument named vmId");
    }
}
