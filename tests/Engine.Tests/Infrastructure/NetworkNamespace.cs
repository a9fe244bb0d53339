using System.Diagnostics;

namespace Platform.Engine.Tests.Infrastructure;

/// <summary>
/// A network namespace of the test's own (<c>ip netns add</c>) with a persistent TAP device in it, addressed and up,
/// so a VMM started inside (<see cref="StartInside"/>) can attach to it without touching the host's network.
/// Deleted, TAP included, on dispose. Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN).
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }

    public static bool CanCreate => Environment.UserName == "root" && File.Exists("/dev/net/tun") && Which("ip") is not null;

    /// <summary>Creates the namespace and TAP <paramref name="tap"/> in it with host address <paramref name="hostCidr"/>.</summary>
    public static NetworkNamespace Create(string tap, string hostCidr) => CreateWith(ns =>
    {
        ns.Run("ip", "tuntap", "add", "dev", tap, "mode", "tap", "vnet_hdr");
        ns.Run("ip", "addr", "add", hostCidr, "dev", tap);
        ns.Run("ip", "link", "set", tap, "up");
    });

    /// <summary>Creates the namespace and bridge <paramref name="bridge"/> in it with host address <paramref name="hostCidr"/>, no ports yet.</summary>
    public static NetworkNamespace CreateWithBridge(string bridge, string hostCidr) => CreateWith(ns =>
    {
        ns.Run("ip", "link", "add", bridge, "type", "bridge");
        ns.Run("ip", "addr", "add", hostCidr, "dev", bridge);
        ns.Run("ip", "link", "set", bridge, "up");
    });

    /// <summary>A new namespace with loopback up and what <paramref name="arrange"/> adds; deleted again if that fails.</summary>
    private static NetworkNamespace CreateWith(Action<NetworkNamespace> arrange)
    {
        var ns = new NetworkNamespace("pvm" + Guid.NewGuid().ToString("N")[..10]);
        Ip("netns", "add", ns.Name);
        try
        {
            arrange(ns);
            ns.Run("ip", "link", "set", "lo", "up");
            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    /// <summary>Runs a command inside the namespace and returns its exit code and output.</summary>
    public (int ExitCode, string Output) Run(params string[] command)
    {
        using var process = Process.Start(Inside(command, redirectInput: false))!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode != 0 && command[0] == "ip"
            ? throw new InvalidOperationException($"{string.Join(' ', command)} in {Name} failed: {output}")
            : (process.ExitCode, output);
    }

    /// <summary>Starts a long-running command inside the namespace with its output redirected.</summary>
    public Process StartInside(params string[] command) => Process.Start(Inside(command, redirectInput: true))!;

    public void Dispose() => Ip("netns", "del", Name);

    private ProcessStartInfo Inside(string[] command, bool redirectInput)
    {
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
        };
        foreach (string arg in (string[])["netns", "exec", Name, .. command])
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    private static void Ip(params string[] args)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)} failed: {error}");
        }
    }

    private static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
}
