namespace Platform.Web.Services.Limits;

/// <summary>
/// What a VM's cgroup counted, read from its files: how much CPU it used and how often the CPU limit held it back, its
/// memory against the limit and how often it hit it, its tasks.
/// </summary>
/// <param name="CpuUsageNanoseconds">CPU time of every task in the group (v1 <c>cpuacct.usage</c>, v2 <c>cpu.stat usage_usec</c>).</param>
/// <param name="Periods">CFS periods in which the group ran (<c>nr_periods</c>).</param>
/// <param name="ThrottledPeriods">Periods that ended with the group held back by its CPU limit (<c>nr_throttled</c>).</param>
/// <param name="ThrottledNanoseconds">Time its tasks waited for the next period (<c>throttled_time</c>, <c>throttled_usec</c>).</param>
/// <param name="MemoryBytes">Memory charged to the group now, page cache included.</param>
/// <param name="MemoryLimitHits">Times a charge met the limit (v1 <c>memory.failcnt</c>, v2 <c>memory.events max</c>).</param>
/// <param name="OomKills">Tasks the kernel's OOM killer ended inside the group.</param>
/// <param name="Pids">Tasks (processes and threads) in the group.</param>
/// <param name="PidsLimitHits">Forks refused at the PIDs limit (<c>pids.events max</c>).</param>
public sealed record CgroupStats(
    long CpuUsageNanoseconds, long Periods, long ThrottledPeriods, long ThrottledNanoseconds,
    long MemoryBytes, long MemoryLimitHits, long OomKills, long Pids, long PidsLimitHits);
