namespace Platform.Contracts.Config;

/// <summary>
/// The names vm.json and the command line give the configuration's enum values: the member's name in lower case, as
/// <see cref="SnakeCaseNames{T}"/> writes them for one-word members (a test holds the two together).
/// </summary>
public static class VmConfigNames
{
    /// <summary>"writeback" for <see cref="DiskCache.Writeback"/>.</summary>
    public static string Of<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    /// <summary>Every value's name, in declaration order.</summary>
    public static IEnumerable<string> Of<T>()
        where T : struct, Enum => Enum.GetValues<T>().Select(Of);

    /// <summary>The value a name names; null when none does.</summary>
    public static T? Parse<T>(string? name)
        where T : struct, Enum => Enum.GetValues<T>().Cast<T?>().FirstOrDefault(v => Of(v!.Value) == name);
}
