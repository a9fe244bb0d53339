using Platform.Web.Services.Runtime;

namespace Platform.Web.Services.Vms;

/// <summary>
/// <see cref="IRunningCdrom"/> over the VM's <c>control.sock</c>; the VMM names its one drive <c>cdrom0</c>. A disc goes in
/// as a descriptor this process opened (read-only, as QEMU's management passes files with <c>getfd</c>): a jailed VMM runs
/// as its own uid in a root of its runtime folder, where the library's ISO is neither visible nor readable by name.
/// </summary>
internal sealed class ControlSocketCdrom(IVmRuntimeInfo runtimeInfo) : IRunningCdrom
{
    public const string Device = "cdrom0";

    public async Task InsertAsync(Guid vmId, string path, CancellationToken cancellationToken)
    {
        Microsoft.Win32.SafeHandles.SafeFileHandle file;
        try
        {
            // No lock: another VM's VMM may hold the same ISO open, and the library's own readers take none either.
            file = Disks.HostFileNative.OpenUnlocked(path);
        }
        catch (IOException ex)
        {
            throw new VmRuntimeException($"The disc cannot be read: {ex.Message}", ex);
        }

        try
        {
            using (file)
            {
                // The VMM keeps its own duplicate of the descriptor; this one closes when the command has been sent.
                await using var client = await ConnectAsync(vmId, cancellationToken);
                await client.ChangeMediumAsync(Device, path, file, cancellationToken);
            }
        }
        catch (VmmControlException ex)
        {
            throw new VmRuntimeException($"The VMM did not take the disc: {ex.Message}", ex);
        }
    }

    public async Task EjectAsync(Guid vmId, bool force, CancellationToken cancellationToken)
    {
        try
        {
            await using var client = await ConnectAsync(vmId, cancellationToken);
            await client.EjectAsync(Device, force, cancellationToken);
        }
        catch (VmmControlException ex) when (ex.ErrorClass == ControlProtocol.ErrorClasses.DeviceLocked)
        {
            throw new CdromLockedException(
                "The guest has locked the drive (its OS uses the disc) and was asked to eject it: eject it inside the guest, or force the eject.", ex);
        }
        catch (VmmControlException ex)
        {
            throw new VmRuntimeException($"The VMM did not eject the disc: {ex.Message}", ex);
        }
    }

    public async Task<CdromDriveState?> QueryAsync(Guid vmId, CancellationToken cancellationToken)
    {
        var stats = await runtimeInfo.GetStatsAsync(vmId, cancellationToken);
        return stats?.Devices.FirstOrDefault(d => d.Name == Device) is { } drive ? From(drive) : null;
    }

    /// <summary>The drive in one <c>query-stats</c> device entry (the pages read it from the stats they follow).</summary>
    public static CdromDriveState From(DeviceStats drive) =>
        new(drive.Medium, drive.Counters.TryGetValue("locked", out long locked) && locked != 0);

    private async Task<VmmControlClient> ConnectAsync(Guid vmId, CancellationToken cancellationToken)
    {
        try
        {
            return await Supervisor.VmmSockets.ConnectControlAsync(runtimeInfo, vmId, cancellationToken);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException)
        {
            throw new VmRuntimeException($"The VMM cannot be reached: {ex.Message}", ex);
        }
    }
}
