using Platform.Web.Services.Images;

namespace Platform.Web.Components.Vms;

/// <summary>
/// What a user reads from a VM's device counters, in words: each disk's and NIC's bytes per second between two
/// samples, and any counter that reports trouble (errors, failures, drops, refusals) that is not zero.
/// The raw counters stay available under the Summary tab's "Details".
/// </summary>
internal sealed record DeviceActivity(string Device, string Kind, string Rates, IReadOnlyList<string> Problems)
{
    private static readonly string[] TroubleWords = ["error", "fail", "drop", "refus", "invalid", "corrupt"];

    /// <summary>One line per disk and NIC, and one per other device that reports trouble; in the VMM's device order.</summary>
    public static List<DeviceActivity> Between(VmmStats? previous, VmmStats current, double seconds)
    {
        var lines = new List<DeviceActivity>();
        foreach (var device in current.Devices)
        {
            // Counters restart with a reboot; a rate is only shown between two samples of the same boot.
            var before = previous is { } p && p.Boots == current.Boots ? p.Devices.FirstOrDefault(d => d.Name == device.Name) : null;
            string? rates = RatesOf(device, before, seconds);
            var problems = device.Counters
                .Where(c => c.Value > 0 && TroubleWords.Any(w => c.Key.Contains(w, StringComparison.Ordinal)))
                .Select(c => $"{c.Key.Replace('_', ' ')}: {c.Value:N0}")
                .ToList();
            if (rates is not null || problems.Count > 0)
            {
                lines.Add(new DeviceActivity(device.Name, device.Kind, rates ?? "", problems));
            }
        }

        return lines;
    }

    private static string? RatesOf(DeviceStats device, DeviceStats? before, double seconds)
    {
        var (inKey, inWord, outKey, outWord) = device.Counters.ContainsKey("read_bytes") ? ("read_bytes", "read", "write_bytes", "written")
            : device.Counters.ContainsKey("rx_bytes") && device.Kind.Contains("net", StringComparison.Ordinal) ? ("rx_bytes", "received", "tx_bytes", "sent")
            : default;
        if (inKey is null)
        {
            return null;
        }

        if (before is null)
        {
            return "measuring…";
        }

        string Rate(string key) =>
            ImageLibrary.FormatSize((long)Math.Max(0, (device.Counters.GetValueOrDefault(key) - before.Counters.GetValueOrDefault(key)) / seconds)) + "/s";
        return $"{Rate(inKey)} {inWord}, {Rate(outKey)} {outWord}";
    }
}
