using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Contracts.Control;

/// <summary>The first line a client reads: who answers and which protocol version it speaks.</summary>
public sealed record ControlGreeting(
    string Protocol, int Version, [property: JsonPropertyName("vmm_version")] string VmmVersion, int Pid,
    int Cpus, [property: JsonPropertyName("memory_bytes")] ulong MemoryBytes, IReadOnlyList<string> Commands);

/// <summary>The answer to <c>query-status</c>.</summary>
/// <param name="Status">starting, running, paused, shutting-down or stopped on the wire.</param>
/// <param name="Running">True while vCPUs run guest code.</param>
/// <param name="Boots">How many times the guest has booted in this VMM (restarts count).</param>
/// <param name="UptimeMs">Milliseconds since the VMM started the first boot.</param>
public sealed record VmmStatus(VmRunState Status, bool Running, int Boots, [property: JsonPropertyName("uptime_ms")] long UptimeMs);

/// <summary>One vCPU's counters in <c>query-stats</c>.</summary>
/// <param name="Index">vCPU index (= APIC id).</param>
/// <param name="Exits">Exits to user space handled since this boot.</param>
/// <param name="CpuTimeMs">Host CPU time of the vCPU thread (user + system) since this boot.</param>
public sealed record VcpuStats(int Index, long Exits, [property: JsonPropertyName("cpu_time_ms")] long CpuTimeMs);

/// <summary>Counters of one device, by name; what each counter means depends on the device.</summary>
public sealed record DeviceStats(string Name, string Kind, IReadOnlyDictionary<string, long> Counters)
{
    /// <summary>The device's last error in words (virtio devices: why it last needed a reset, or the backend's last I/O failure); omitted when none.</summary>
    public string? LastError { get; init; }

    /// <summary>Disks: the image format ("raw" or "qcow2"); omitted for other devices.</summary>
    public string? Format { get; init; }

    /// <summary>NICs: the MAC address; omitted for other devices.</summary>
    public string? Mac { get; init; }

    /// <summary>CD-ROM drives: the ISO image in the drive; omitted when it is empty and for other devices.</summary>
    public string? Medium { get; init; }

    /// <summary>NICs: the IPv4 and IPv6 addresses the guest has sent from (IPv4 first); omitted until it has sent any.</summary>
    public IReadOnlyList<string>? Addresses { get; init; }
}

/// <summary>The answer to <c>query-stats</c>: what the dashboard charts.</summary>
public sealed record VmmStats(
    int Boots,
    [property: JsonPropertyName("uptime_ms")] long UptimeMs,
    [property: JsonPropertyName("guest_memory_bytes")] ulong GuestMemoryBytes,
    [property: JsonPropertyName("vmm_rss_bytes")] long VmmRssBytes,
    IReadOnlyList<VcpuStats> Vcpus,
    IReadOnlyList<DeviceStats> Devices);

/// <summary>An asynchronous event as a client receives it.</summary>
/// <param name="Name">STOP, RESUME, RESET, SHUTDOWN, GUEST_PANICKED, POWERDOWN.</param>
/// <param name="Reason">Why, when the VMM knows (guest-reset, host-qmp-quit, a KVM error…).</param>
/// <param name="Timestamp">When the VMM raised it.</param>
public sealed record VmmControlEvent(string Name, string? Reason, DateTimeOffset Timestamp)
{
    /// <summary>The event, typed; null for a name this side does not know.</summary>
    public VmmEventKind? Kind => ControlProtocol.Events.KindOf(Name);
}

/// <summary>Wire shapes of replies and events; one source-generated context keeps the client and the NativeAOT server in step.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(KebabCaseNames<VmRunState>)])]
[JsonSerializable(typeof(ControlGreeting))]
[JsonSerializable(typeof(VmmStatus))]
[JsonSerializable(typeof(VmmStats))]
public sealed partial class ControlJson : JsonSerializerContext;

/// <summary>An enum by its kebab-case name ("shutting-down"), numbers refused: how the protocol spells its states.</summary>
public sealed class KebabCaseNames<T>() : JsonStringEnumConverter<T>(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false)
    where T : struct, Enum;
