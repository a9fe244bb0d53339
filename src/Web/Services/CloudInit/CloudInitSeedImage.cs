using System.ComponentModel;
using System.Diagnostics;

namespace Platform.Web.Services.CloudInit;

/// <summary>
/// Writes a NoCloud seed: an ISO 9660 volume labelled <c>cidata</c> with Rock Ridge and Joliet names (so
/// <c>meta-data</c> keeps its dash), made by Debian's xorriso (<c>xorriso -as mkisofs</c>, what cloud-localds and
/// Proxmox use) rather than a writer of our own. cloud-init finds the volume by its label on any block device. The image
/// is made under a temporary name, flushed and renamed into place: a seed is whole or absent.
/// </summary>
public static class CloudInitSeedImage
{
    /// <summary>The volume label NoCloud looks for (any case).</summary>
    public const string VolumeLabel = "cidata";

    public const string Program = "xorriso";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Writes <paramref name="files"/> to a seed at <paramref name="path"/>; throws <see cref="IOException"/> saying why not.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, string> files)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(files);
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        string staging = Path.Combine(folder, $".cidata-{Guid.NewGuid():N}");
        string temporary = Path.Combine(folder, $".new-{Guid.NewGuid():N}.iso");
        try
        {
            Directory.CreateDirectory(staging);
            foreach (var (name, content) in files)
            {
                File.WriteAllText(Path.Combine(staging, name), content);
            }

            Run(["-as", "mkisofs", "-quiet", "-output", temporary, "-volid", VolumeLabel, "-joliet", "-rock", staging]);
            using (var written = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite))
            {
                written.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    private static void Run(IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(Program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new IOException($"{Program} did not start.");
        }
        catch (Win32Exception ex)
        {
            throw new IOException($"{Program} is needed to write the cloud-init seed and could not be run ({ex.Message}): install Debian's xorriso package (./platform setup does).", ex);
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill();
                throw new IOException($"{Program} did not finish the cloud-init seed within {Timeout.TotalSeconds} s.");
            }

            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new IOException($"{Program} could not write the cloud-init seed (exit code {process.ExitCode}): {stderr.Result.Trim()} {stdout.Result.Trim()}".Trim());
            }
        }
    }
}
