using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Web.Data;
using Platform.Web.Security;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Security;

/// <summary>
/// The sign-in form must not tell anyone without the password whether an account exists, is disabled or is locked:
/// not by its message, and not by its time, which is mostly the password hash (so every attempt computes one).
/// </summary>
public sealed partial class SignInEnumerationTests(PlatformAppFactory factory) : IClassFixture<PlatformAppFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_wrong_password_gets_one_answer_for_unknown_disabled_and_locked_accounts()
    {
        await TestAccounts.CreateUserAsync(factory.Services, "enum-disabled", (BuiltInRoles.VmUserId, null));
        await DisableAsync("enum-disabled");
        await TestAccounts.CreateUserAsync(factory.Services, "enum-locked", (BuiltInRoles.VmUserId, null));
        var (browser, _) = TestAccounts.CreateBrowser(factory);
        using var _ = browser;
        for (int i = 0; i < 5; i++)
        {
            await TestAccounts.PostSignInAsync(browser, "enum-locked", "not-the-password-" + i);
        }

        string unknown = await MessageAsync(browser, "enum-nobody", "a-wrong-password");
        string disabled = await MessageAsync(browser, "enum-disabled", "a-wrong-password");
        string locked = await MessageAsync(browser, "enum-locked", "a-wrong-password");
        string lockedRightPassword = await MessageAsync(browser, "enum-locked", TestAccounts.Password);

        unknown.Should().Contain("Wrong user name or password");
        new[] { disabled, locked, lockedRightPassword }.Should().AllBe(unknown, "nothing tells an account that exists from one that does not");
        (await MessageAsync(browser, "enum-disabled", TestAccounts.Password)).Should().Contain("disabled", "whoever knows the password learns why");
    }

    [Fact]
    public async Task Every_attempt_computes_a_password_hash_whether_or_not_the_account_exists_or_may_sign_in()
    {
        var hasher = new CountingHasher();
        using var counted = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddScoped<IPasswordHasher<PlatformUser>>(_ => hasher)));
        using var scopeOwner = counted.CreateClient();
        await using (var scope = counted.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PlatformUser>>();
            (await users.CreateAsync(new PlatformUser { UserName = "enum-timed-disabled", Disabled = true }, TestAccounts.Password)).Succeeded.Should().BeTrue();
        }

        var (browser, _) = TestAccounts.CreateBrowser(counted);
        using var _ = browser;
        foreach (string name in new[] { "enum-timed-nobody", "enum-timed-disabled" })
        {
            int before = hasher.Verified;
            await TestAccounts.PostSignInAsync(browser, name, "a-wrong-password");
            hasher.Verified.Should().BeGreaterThan(before, $"signing in as {name} takes a hash's time");
        }
    }

    private static async Task<string> MessageAsync(HttpClient browser, string name, string password)
    {
        var response = await TestAccounts.PostSignInAsync(browser, name, password);
        response.StatusCode.Should().Be(HttpStatusCode.OK, "the form comes back");
        var match = Message().Match(await response.Content.ReadAsStringAsync(Ct));
        match.Success.Should().BeTrue("the form says something");
        return WebUtility.HtmlDecode(Regex.Replace(match.Groups[1].Value, "<[^>]+>", "")).Trim();
    }

    private async Task DisableAsync(string name)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PlatformUser>>();
        var user = (await users.FindByNameAsync(name))!;
        user.Disabled = true;
        (await users.UpdateAsync(user)).Succeeded.Should().BeTrue();
    }

    [GeneratedRegex("data-testid=\"account-message\".*?mud-alert-message[^>]*>(.*?)</div>", RegexOptions.Singleline)]
    private static partial Regex Message();

    /// <summary>Identity's hasher, counting the passwords it checks.</summary>
    private sealed class CountingHasher : IPasswordHasher<PlatformUser>
    {
        private readonly PasswordHasher<PlatformUser> _inner = new();
        private int _verified;

        public int Verified => Volatile.Read(ref _verified);

        public string HashPassword(PlatformUser user, string password) => _inner.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(PlatformUser user, string hashedPassword, string providedPassword)
        {
            Interlocked.Increment(ref _verified);
            return _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }
}
