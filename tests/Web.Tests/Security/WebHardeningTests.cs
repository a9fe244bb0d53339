using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>Response headers and cookie flags, as a browser would get them over plain HTTP and over HTTPS.</summary>
public sealed class WebHardeningTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/account/login")]
    [InlineData("/api/v1/vms")]
    public async Task Pages_and_the_api_carry_the_security_headers(string path)
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync(path, Ct);

        var headers = response.Headers;
        headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
        headers.GetValues("X-Frame-Options").Should().Equal("DENY");
        headers.GetValues("Referrer-Policy").Should().Equal("same-origin");
        // Blazor adds a policy of its own (frame-ancestors 'self'); a browser enforces every one, so ours is what counts.
        string csp = headers.GetValues("Content-Security-Policy").Single(p => p.StartsWith("default-src", StringComparison.Ordinal));
        csp.Should().Contain("default-src 'self'").And.Contain("frame-ancestors 'none'").And.Contain("object-src 'none'")
            .And.MatchRegex("script-src 'self' 'nonce-[0-9a-f]{32}';", "scripts only from here, and the import map by nonce");
        headers.Contains("Strict-Transport-Security").Should().BeFalse("plain HTTP cannot promise HTTPS");
    }

    [Theory]
    [InlineData("/package.json")]
    [InlineData("/package-lock.json")]
    public async Task The_npm_manifests_in_the_web_root_are_not_served(string path)
    {
        using var client = factory.CreateClient();
        (await client.GetAsync("/css/app.css", Ct)).StatusCode.Should().Be(HttpStatusCode.OK, "the web root is served");

        var response = await client.GetAsync(path, Ct);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound, "the versions of every front-end package are a build input, not for the browser");
    }

    [Fact]
    public async Task Over_https_every_cookie_is_secure_http_only_and_same_site_strict_and_hsts_is_sent()
    {
        var (browser, _) = TestAccounts.CreateBrowser(factory);
        using var _ = browser;
        browser.BaseAddress = new Uri("https://dashboard.example/");
        var form = await browser.GetAsync("/account/login", Ct);
        var signIn = await TestAccounts.PostSignInAsync(browser, TestAccounts.AdminName, TestAccounts.AdminPassword);
        signIn.StatusCode.Should().Be(HttpStatusCode.Redirect);

        var cookies = form.Headers.GetValues("Set-Cookie").Concat(signIn.Headers.GetValues("Set-Cookie")).ToList();

        cookies.Should().Contain(c => c.StartsWith("platform.antiforgery=", StringComparison.Ordinal))
            .And.Contain(c => c.StartsWith("platform.session=", StringComparison.Ordinal));
        foreach (string cookie in cookies)
        {
            string flags = cookie.ToLowerInvariant();
            flags.Should().Contain("; secure", cookie).And.Contain("; httponly", cookie).And.Contain("samesite=strict", cookie);
        }

        form.Headers.GetValues("Strict-Transport-Security").Single().Should().StartWith("max-age=");
    }
}
