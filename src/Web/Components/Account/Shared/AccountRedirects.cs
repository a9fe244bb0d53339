namespace Platform.Web.Components.Account.Shared;

/// <summary>Where a sign-in may send the browser afterwards: only a path on this site, never another site.</summary>
internal static class AccountRedirects
{
    public static string Safe(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//", StringComparison.Ordinal)
            && !returnUrl.StartsWith("/\\", StringComparison.Ordinal) && !returnUrl.StartsWith("/account/", StringComparison.OrdinalIgnoreCase)
            ? returnUrl
            : "/vms";
}
