using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Contracts.Config;

/// <summary>vm.json on disk: written by the dashboard, read by <c>platform-vmm --config</c>, one source-generated shape.</summary>
public static class VmConfigFile
{
    /// <summary>The file's name in a VM's runtime folder.</summary>
    public const string FileName = "vm.json";

    public static string Serialize(VmConfig config) => JsonSerializer.Serialize(config, VmConfigJson.Default.VmConfig);

    /// <summary>Parses vm.json's text; a <see cref="VmConfigFormatException"/> says where it is wrong.</summary>
    public static VmConfig Deserialize(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, VmConfigJson.Default.VmConfig)
                ?? throw new VmConfigFormatException("the file holds null, not a VM configuration");
        }
        catch (JsonException ex)
        {
            // System.Text.Json's message already names the path ($.disks[0].cache) and the line.
            throw new VmConfigFormatException(ex.Message, ex);
        }
    }

    public static VmConfig Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VmConfigFormatException($"cannot read {path}: {ex.Message}", ex);
        }

        try
        {
            return Deserialize(text);
        }
        catch (VmConfigFormatException ex)
        {
            throw new VmConfigFormatException($"{path} is not a valid VM configuration: {ex.Message}", ex);
        }
    }

    /// <summary>Writes the file owner-only and whole: a reader never sees half of it.</summary>
    public static void Write(string path, VmConfig config)
    {
        string temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(temporary, options))
        {
            writer.Write(Serialize(config));
            writer.Write('\n');
        }

        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>vm.json could not be read or is not a VM configuration; the message says where.</summary>
public sealed class VmConfigFormatException : Exception
{
    public VmConfigFormatException()
    {
    }

    public VmConfigFormatException(string message)
        : base(message)
    {
    }

    public VmConfigFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The source-generated JSON of vm.json: snake_case members, enums by their snake_case names (never numbers), unknown
/// members refused (a misspelt setting is an error, not silently ignored), nulls left out.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters =
    [
        typeof(SnakeCaseNames<BootSource>), typeof(SnakeCaseNames<RebootPolicy>), typeof(SnakeCaseNames<DisplayKind>),
        typeof(SnakeCaseNames<InputKind>), typeof(SnakeCaseNames<DiskCache>), typeof(SnakeCaseNames<DiskFormat>), typeof(SnakeCaseNames<DiskBus>),
        typeof(SnakeCaseNames<SerialMode>), typeof(SnakeCaseNames<NicKind>), typeof(SnakeCaseNames<ForwardProtocol>),
        typeof(SnakeCaseNames<FirmwareKind>), typeof(SnakeCaseNames<BootDevice>),
    ],
    WriteIndented = true,
    AllowTrailingCommas = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(VmConfig))]
public sealed partial class VmConfigJson : JsonSerializerContext;

/// <summary>An enum by its snake_case name ("writeback", "qcow2"), numbers refused: how vm.json spells its choices.</summary>
public sealed class SnakeCaseNames<T>() : JsonStringEnumConverter<T>(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false)
    where T : struct, Enum;
