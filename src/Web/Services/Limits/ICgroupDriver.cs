namespace Platform.Web.Services.Limits;

/// <summary>
/// One cgroup version's files: v1 (a hierarchy per controller: memory, cpu, cpuacct, pids) or v2 (one tree). Groups
/// are named by a relative path (<c>platform-1a2b3c4d/vm-…</c>) under the dashboard's own cgroup, so what the
/// dashboard is held to holds its VMs too.
/// </summary>
public interface ICgroupDriver
{
    /// <summary>"v1" or "v2", for the Host page and the logs.</summary>
    string Version { get; }

    /// <summary>Makes the group (and its parents) where missing.</summary>
    /// <exception cref="IOException">The cgroup file system refused it; the message names the file.</exception>
    void Create(string group);

    /// <summary>The <c>cgroup.procs</c> files a process writes its pid to so that it joins the group, one per hierarchy.</summary>
    IReadOnlyList<string> ProcsFiles(string group);

    /// <summary>Writes every limit; a limit left out is written as "none" so a live change can lift one.</summary>
    /// <exception cref="IOException">A value was refused; the message names the file and the value.</exception>
    void Apply(string group, VmResourceLimits limits);

    /// <summary>The group's counters, or null when it does not exist.</summary>
    CgroupStats? ReadStats(string group);

    /// <summary>The pids in the group (in any of its hierarchies).</summary>
    IReadOnlyList<int> Pids(string group);

    /// <summary>The names of the groups directly under <paramref name="parent"/>.</summary>
    IReadOnlyList<string> Children(string parent);

    /// <summary>Removes an empty group; false while tasks remain in it. A missing group counts as removed.</summary>
    bool TryRemove(string group);

    /// <summary>The directory of the group in the hierarchy that holds <paramref name="controller"/> (for tests and messages).</summary>
    string DirectoryOf(string group, string controller);
}
