namespace Platform.Web.Services.CloudInit;

/// <summary>
/// The cloud-init seed as the VM's disk list shows it: the last disk, raw, read-only, managed by the Cloud-init settings
/// (not edited or detached with the other disks). Its size is the file's, once a start has written it.
/// </summary>
/// <param name="Position">Its 0-based place among the disks the VMM gets: after the VM's own.</param>
/// <param name="Current">Whether the file holds the settings as they are now (the next start writes it again if not).</param>
/// <param name="Note">What a reader should know: not written yet, or to be written again; null when current.</param>
public sealed record CloudInitSeedDetails(int Position, string FilePath, long? SizeBytes, long? AllocatedBytes, bool Current, string? Note)
{
    public const string Label = "cloud-init seed (cidata)";
}
