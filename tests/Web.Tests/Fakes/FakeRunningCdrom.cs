using Platform.Web.Services.Runtime;
using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Fakes;

/// <summary>
/// A running VM's drive as a VMM would keep it, per VM: what was inserted, whether the guest locked the tray (then an
/// eject without force is refused, as the VMM's <c>DeviceLocked</c>), and every call in order.
/// </summary>
public sealed class FakeRunningCdrom : IRunningCdrom
{
    private readonly Dictionary<Guid, CdromDriveState> _drives = [];

    public List<string> Calls { get; } = [];

    /// <summary>The VMM refuses the next insert with this reason (a file that is gone, say).</summary>
    public string? RefuseInsert { get; set; }

    public void SetDrive(Guid vmId, string? medium, bool locked = false)
    {
        lock (_drives)
        {
            _drives[vmId] = new CdromDriveState(medium, locked);
        }
    }

    public Task InsertAsync(Guid vmId, string path, CancellationToken cancellationToken)
    {
        lock (_drives)
        {
            Calls.Add($"insert {vmId} {path}");
            if (RefuseInsert is { } reason)
            {
                throw new VmRuntimeException(reason);
            }

            _drives[vmId] = new CdromDriveState(path, _drives.TryGetValue(vmId, out var drive) && drive.Locked);
        }

        return Task.CompletedTask;
    }

    public Task EjectAsync(Guid vmId, bool force, CancellationToken cancellationToken)
    {
        lock (_drives)
        {
            Calls.Add($"eject {vmId} force={force}");
            if (_drives.TryGetValue(vmId, out var drive) && drive.Locked && !force)
            {
                throw new CdromLockedException("The guest has locked the drive (its OS uses the disc) and was asked to eject it: eject it inside the guest, or force the eject.");
            }

            _drives[vmId] = new CdromDriveState(null, drive?.Locked ?? false);
        }

        return Task.CompletedTask;
    }

    public Task<CdromDriveState?> QueryAsync(Guid vmId, CancellationToken cancellationToken)
    {
        lock (_drives)
        {
            return Task.FromResult(_drives.TryGetValue(vmId, out var drive) ? drive : null);
        }
    }
}
