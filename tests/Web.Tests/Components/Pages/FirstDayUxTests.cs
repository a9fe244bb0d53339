using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Components.Layout;
using Platform.Web.Components.Pages;
using Platform.Web.Security;

namespace Platform.Web.Tests.Components.Pages;

/// <summary>Small things a first-day user missed: a copy button for a new token, dark mode kept across reloads.</summary>
public sealed class FirstDayUxTests : DashboardTestContext
{
    [Fact]
    public void A_new_api_token_has_a_copy_button_that_puts_it_on_the_clipboard()
    {
        Services.AddSingleton(new ApiTokenService(Db.Factory, Db.Permissions, TimeProvider.System));
        var copy = JSInterop.SetupVoid("navigator.clipboard.writeText", _ => true);
        copy.SetVoidResult();
        var page = Render<TokensPage>();

        page.Find("input[data-testid=token-name], [data-testid=token-name] input").Change("ci");
        page.Find("[data-testid=create-token]").Click();
        page.WaitForElement("[data-testid=token-copy]");
        string secret = page.Find("[data-testid=token-secret]").TextContent;
        page.Find("[data-testid=token-copy]").Click();

        copy.Invocations.Should().ContainSingle().Which.Arguments.Should().Equal(secret);
        secret.Should().StartWith(ApiTokenService.TokenPrefix);
        Snackbars.Should().Contain("The token is on the clipboard.");
    }

    [Fact]
    public void Dark_mode_chosen_once_is_remembered_in_the_browser_and_read_back_on_the_next_load()
    {
        SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", true));
        JSInterop.Setup<string?>("localStorage.getItem", MainLayout.DarkModeKey).SetResult("dark");
        var store = JSInterop.SetupVoid("localStorage.setItem", _ => true);
        var layout = Render<MainLayout>(p => p.Add(l => l.Body, b => b.AddContent(0, "page")));

        // The stored choice was dark, so the toggle shows the light-mode icon.
        string lightIcon = System.Text.RegularExpressions.Regex.Match(MudBlazor.Icons.Material.Filled.LightMode, "d=\"([^\"]+)\"").Groups[1].Value;
        layout.WaitForAssertion(() => layout.Find("button[aria-label='Toggle dark mode']").InnerHtml.Should().Contain(lightIcon));
        layout.Find("button[aria-label='Toggle dark mode']").Click();

        store.Invocations.Should().ContainSingle().Which.Arguments.Should().Equal(MainLayout.DarkModeKey, "light");
    }
}
