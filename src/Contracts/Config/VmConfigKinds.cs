namespace Platform.Contracts.Config;

/// <summary>Where the kernel comes from.</summary>
public enum BootSource
{
    /// <summary><see cref="VmConfig.Kernel"/> and <see cref="VmConfig.Initrd"/>: host files, as QEMU's -kernel.</summary>
    Kernel,
    /// <summary>
    /// The first disk: the VMM reads its boot configuration (Boot Loader Spec, extlinux, grub.cfg, Debian's /vmlinuz) and
    /// loads the kernel and initrd it names, as Xen's pygrub does. Read again at every boot, so a guest that installs a
    /// new kernel boots it after its next reboot.
    /// </summary>
    Disk,
}

/// <summary>What runs first when the machine starts.</summary>
public enum FirmwareKind
{
    /// <summary>No firmware: the VMM loads the kernel itself (<see cref="BootSource"/>) and enters it directly.</summary>
    None,
    /// <summary>
    /// SeaBIOS, as QEMU's pc machine runs it: the vCPU starts at the reset vector in the BIOS image and the BIOS boots
    /// the disks (boot sectors, boot loaders), so any PC operating system can boot.
    /// </summary>
    Bios,
}

/// <summary>A kind of boot device, as a firmware boot order names it.</summary>
public enum BootDevice
{
    /// <summary>The virtio-blk disks, in their order.</summary>
    Disk,
    /// <summary>The DVD/CD-ROM drive (El Torito).</summary>
    Cdrom,
}

/// <summary>What to do when the guest resets (i8042 pulse, triple fault, reset system event).</summary>
public enum RebootPolicy
{
    /// <summary>The VMM exits with code 2, as Firecracker and QEMU's -no-reboot do.</summary>
    Exit,
    /// <summary>The machine is rebuilt and the kernel boots again.</summary>
    Restart,
}

/// <summary>The machine's display adapter.</summary>
public enum DisplayKind
{
    /// <summary>No display: no VGA device, no framebuffer, no vnc.sock (a serial-only machine, as Firecracker's).</summary>
    None,
    /// <summary>QEMU's std-vga (Bochs VBE, PCI 1234:1111) with its framebuffer served over RFB, as QEMU's pc machine has by default.</summary>
    Std,
}

/// <summary>The input devices a display's viewers type and point with.</summary>
public enum InputKind
{
    /// <summary>
    /// A virtio tablet (absolute pointer: the guest's cursor is where the viewer's is) and a virtio keyboard beside
    /// the PS/2 keyboard, as QEMU with <c>-device virtio-tablet-pci -device virtio-keyboard-pci</c>. Keys go to the
    /// virtio keyboard while the guest's driver runs it, to the PS/2 keyboard otherwise.
    /// </summary>
    Virtio,
    /// <summary>Only the PS/2 keyboard on the i8042 (which every machine has): no pointer.</summary>
    Ps2,
}

/// <summary>How the host caches a disk image: QEMU's cache modes, the two we support.</summary>
public enum DiskCache
{
    /// <summary>Writes go to the host page cache; the guest's flush makes them durable (fsync).</summary>
    Writeback,
    /// <summary>The host page cache is bypassed (O_DIRECT), as QEMU's cache=none.</summary>
    None,
}

/// <summary>
/// The controller a disk sits on, as QEMU's <c>-drive if=</c>: virtio-blk, or a SATA hard disk on the AHCI controller,
/// which every OS installer (Windows, the BSDs) drives without a driver of its own.
/// </summary>
public enum DiskBus
{
    /// <summary>A virtio-blk PCI function of its own (Linux's /dev/vdX): the fast path.</summary>
    Virtio,
    /// <summary>A SATA disk on a port of the AHCI controller (after the CD-ROM's port 0 when there is a drive).</summary>
    Sata,
}

/// <summary>A disk image's format.</summary>
public enum DiskFormat
{
    Raw,
    Qcow2,
}

/// <summary>Where the serial console goes besides <c>serial.sock</c>.</summary>
public enum SerialMode
{
    /// <summary>stdout and stdin as well as serial.sock (when there is a runtime folder): the VMM run by hand.</summary>
    Stdio,
    /// <summary>serial.sock only (needs a runtime folder): the VMM run by the dashboard.</summary>
    Socket,
    /// <summary>serial.sock only when there is a runtime folder; nowhere otherwise.</summary>
    None,
}

/// <summary>Where a NIC's frames go.</summary>
public enum NicKind
{
    /// <summary>
    /// User-mode NAT of its own: a passt process, the VMM's child, gives the guest DHCP, DNS and outbound TCP/UDP/ICMP
    /// through the host's sockets, and forwards host ports to it. Needs no host set-up and no privilege.
    /// </summary>
    User,
    /// <summary>An existing host TAP device, made by someone else (<c>ip tuntap add</c>).</summary>
    Tap,
    /// <summary>A TAP device the VMM makes, joins to an existing host bridge and removes when it ends (needs CAP_NET_ADMIN).</summary>
    Bridge,
}

/// <summary>A port forward's transport.</summary>
public enum ForwardProtocol
{
    Tcp,
    Udp,
}
