using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Vms;

/// <summary>
/// A running VM's CD-ROM drive, through its VMM (the control socket's <c>blockdev-change-medium</c> and <c>eject</c>, as
/// QEMU's): the guest sees the disc change at once, and the drive keeps it across the guest's reboots.
/// </summary>
public interface IRunningCdrom
{
    /// <summary>Puts the ISO image at <paramref name="path"/> in the drive. Throws <see cref="VmRuntimeException"/> with the VMM's reason.</summary>
    Task InsertAsync(Guid vmId, string path, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the disc out. Throws <see cref="CdromLockedException"/> while the guest holds the tray locked (unless
    /// <paramref name="force"/>), <see cref="VmRuntimeException"/> for anything else the VMM refuses.
    /// </summary>
    Task EjectAsync(Guid vmId, bool force, CancellationToken cancellationToken);

    /// <summary>The drive as the VMM has it now (its <c>query-stats</c>); null when the VM is not running or has no drive.</summary>
    Task<CdromDriveState?> QueryAsync(Guid vmId, CancellationToken cancellationToken);
}

/// <summary>What a running VMM says of its drive.</summary>
/// <param name="Medium">The ISO image's path on the host; null: the drive is empty.</param>
/// <param name="Locked">The guest has locked the tray (PREVENT ALLOW MEDIUM REMOVAL): an eject needs force.</param>
public sealed record CdromDriveState(string? Medium, bool Locked);

/// <summary>The guest has locked the drive's tray; the VMM asked it to eject, and force takes the disc out anyway.</summary>
public sealed class CdromLockedException(string message, Exception? inner = null) : Exception(message, inner);
