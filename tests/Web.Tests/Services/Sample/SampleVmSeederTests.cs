using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Endpoints;
using Platform.Web.Services.Runtime;
using Platform.Web.Tests.Endpoints;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.Sample;

// First start with Platform:SeedSample (what ./platform run sets): one sample VM that the supervisor boots at once.
public sealed class SampleVmSeederTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("pws-").FullName;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> NewApp() =>
        new SupervisedAppFactory(_dataDirectory).WithWebHostBuilder(b => b.UseSetting("Platform:SeedSample", "true"));

    [Fact]
    public async Task The_first_start_adds_a_sample_that_boots_and_a_deleted_sample_stays_deleted()
    {
        Guid id;
        await using (var first = NewApp())
        {
            using var client = first.CreateClient();
            var vms = await client.GetFromJsonAsync<List<VmResponse>>("/api/v1/vms", ApiJson.Options, Token);
            var sample = vms.Should().ContainSingle().Subject;
            sample.Autostart.Should().BeTrue();
            bool hardware = HostKvm.DetectKind() is KvmKind.HardwareIntel or KvmKind.HardwareAmd;
            if (!hardware)
            {
                sample.Name.Should().Be("test-guest-sample", "a stock kernel cannot boot on PVM, so the sample is a test guest");
                sample.KernelPath.Should().MatchRegex(@"tests/guests/build/(fb|echo)\.elf$");
            }

            var runtime = first.Services.GetRequiredService<IVmRuntime>();
            var clock = Stopwatch.StartNew();
            while (runtime.GetState(sample.Id) != VmPowerState.Running)
            {
                clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60), "autostart boots the sample");
                await Task.Delay(50, Token);
            }

            id = sample.Id;
            await runtime.StopAsync(id, Token);
            var version = (await client.GetAsync($"/api/v1/vms/{id}", Token)).Headers.ETag!.Tag;
            using var delete = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/vms/{id}");
            delete.Headers.TryAddWithoutValidation("If-Match", version);
            (await client.SendAsync(delete, Token)).IsSuccessStatusCode.Should().BeTrue();
        }

        await using var second = NewApp();
        using var secondClient = second.CreateClient();
        (await secondClient.GetFromJsonAsync<List<VmResponse>>("/api/v1/vms", ApiJson.Options, Token)).Should().BeEmpty();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
