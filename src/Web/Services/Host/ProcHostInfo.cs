using System.Globalization;

namespace Platform.Web.Services.Host;

/// <summary>Reads /proc/cpuinfo and /proc/meminfo, and asks the engine which KVM this is.</summary>
internal sealed class ProcHostInfo : IHostInfo
{
    public HostSnapshot Read()
    {
        var memory = ReadMemInfo();
        return new HostSnapshot(
            ReadCpuModel(),
            Environment.ProcessorCount,
            memory.GetValueOrDefault("MemTotal") / 1024,
            memory.GetValueOrDefault("MemAvailable") / 1024,
            HostKvm.DetectKind());
    }

    private static string ReadCpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is int colon and > 0)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }

        return "unknown";
    }

    /// <summary>Values of /proc/meminfo in KiB, by field name.</summary>
    private static Dictionary<string, long> ReadMemInfo()
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
            {
                string[] parts = line.Split(':', 2);
                if (parts.Length == 2 && long.TryParse(parts[1].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kib))
                {
                    values[parts[0]] = kib;
                }
            }
        }
        catch (IOException)
        {
        }

        return values;
    }
}
