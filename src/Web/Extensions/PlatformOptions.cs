namespace Platform.Web.Extensions;

/// <summary>Settings under <c>Platform:</c> in configuration (appsettings.json, PLATFORM__* variables).</summary>
public sealed class PlatformOptions
{
    public const string Section = "Platform";

    /// <summary>Where the database and VM runtime folders live.</summary>
    public string DataDirectory { get; set; } =
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "platform");
}
