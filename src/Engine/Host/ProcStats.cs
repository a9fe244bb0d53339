using System.Globalization;

namespace Platform.Engine.Host;

/// <summary>Reads this process's own figures from /proc for query-stats: thread CPU time and resident memory.</summary>
internal static class ProcStats
{
    // /proc reports times in USER_HZ, which the x86 Linux ABI fixes at 100 whatever the kernel's HZ.
    private const long UserHz = 100;
    private const int UtimeField = 14;
    private const int StimeField = 15;

    /// <summary>User + system CPU time of one of our threads in ms; 0 when the thread is gone.</summary>
    public static long ThreadCpuTimeMs(int tid)
    {
        if (tid <= 0)
        {
            return 0;
        }

        try
        {
            string[] fields = FieldsAfterName(File.ReadAllText($"/proc/self/task/{tid}/stat"));
            long ticks = long.Parse(fields[UtimeField - 3], CultureInfo.InvariantCulture)
                + long.Parse(fields[StimeField - 3], CultureInfo.InvariantCulture);
            return ticks * 1000 / UserHz;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 0;
        }
    }

    /// <summary>
    /// The fields of a <c>/proc/…/stat</c> line after the command name, from the state (field 3) on: the name (field
    /// 2) is in parentheses and may hold spaces and parentheses itself, so they are counted after the last ')'.
    /// </summary>
    public static string[] FieldsAfterName(string stat) => stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

    /// <summary>Resident set size of the whole VMM (guest pages the guest touched included), in bytes.</summary>
    public static long ResidentSetBytes()
    {
        try
        {
            string[] fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 0;
        }
    }
}
