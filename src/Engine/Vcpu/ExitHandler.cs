using Platform.Engine.Kvm.Interop;
using Platform.Engine.Machine;

namespace Platform.Engine.Vcpu;

/// <summary>
/// Decodes one KVM exit and dispatches it: port I/O and MMIO to the buses, the rest to an <see cref="ExitAction"/>.
/// A pure function of the kvm_run page and the buses, so it is tested with fake exits and no KVM. Allocates nothing.
/// </summary>
internal static class ExitHandler
{
    private const byte IoDirectionOut = 1;
    private const uint SystemEventShutdown = 1, SystemEventReset = 2, SystemEventCrash = 3;

    // SAFETY: the caller's `run` points at a kvm_run page (the vCPU's mapping, or a test's fake) that holds at least
    // KvmRun's header and outlives the call; `runPage` is that whole page, so every offset the kernel reports is
    // bounds-checked against it before use.
    public static unsafe ExitAction Handle(KvmRun* run, Span<byte> runPage, IoBus ports, IoBus mmio, out string? detail)
    {
        detail = null;
        switch ((KvmExitReason)run->ExitReason)
        {
            case KvmExitReason.Io:
                return HandleIo(run, runPage, ports, ref detail);

            case KvmExitReason.Mmio:
                {
                    int length = (int)Math.Min(run->MmioLen, 8u);
                    // SAFETY: mmio.data is 8 bytes inside the run header and length is clamped to 8.
                    var data = new Span<byte>(&run->MmioData, length);
                    if (run->MmioIsWrite != 0)
                    {
                        mmio.Write(run->MmioPhysAddr, data);
                    }
                    else
                    {
                        mmio.Read(run->MmioPhysAddr, data);
                    }

                    return ExitAction.Continue;
                }

            case KvmExitReason.Hlt:
                // Only reached without an in-kernel irqchip; with one, KVM waits for interrupts itself.
                return ExitAction.Continue;

            case KvmExitReason.IrqWindowOpen:
            case KvmExitReason.Intr:
                return ExitAction.Interrupted;

            case KvmExitReason.Shutdown:
                detail = "triple fault";
                return ExitAction.Reset;

            case KvmExitReason.SystemEvent:
                return run->SystemEventType switch
                {
                    SystemEventReset => ExitAction.Reset,
                    SystemEventShutdown => ExitAction.PowerOff,
                    SystemEventCrash => Fatal(out detail, "guest reported a crash (system event)"),
                    _ => Fatal(out detail, $"unknown system event {run->SystemEventType}"),
                };

            case KvmExitReason.InternalError:
                detail = run->InternalSuberror switch
                {
                    1 => "KVM internal error: emulation failure (an instruction KVM cannot emulate)",
                    2 => "KVM internal error: simultaneous exceptions",
                    3 => "KVM internal error: delivery event",
                    _ => $"KVM internal error: suberror {run->InternalSuberror}",
                };
                if (run->InternalNdata > 0)
                {
                    detail += $" (data 0x{run->InternalData0:x}, 0x{run->InternalData1:x})";
                }

                return ExitAction.Fatal;

            case KvmExitReason.FailEntry:
                detail = $"VM entry failed: hardware reason 0x{run->FailEntryHardwareReason:x} on CPU {run->FailEntryCpu}";
                return ExitAction.Fatal;

            default:
                detail = $"unhandled KVM exit reason {run->ExitReason}";
                return ExitAction.Fatal;
        }
    }

    // SAFETY: as Handle: run points at a live kvm_run header; the data is taken from runPage, bounds-checked.
    private static unsafe ExitAction HandleIo(KvmRun* run, Span<byte> runPage, IoBus ports, ref string? detail)
    {
        int size = run->IoSize;
        int count = (int)run->IoCount;
        ulong offset = run->IoDataOffset;
        // String I/O (rep ins/outs) carries count elements of size bytes; all of it must lie in the run page.
        if (size is not (1 or 2 or 4) || count <= 0 || offset > (ulong)runPage.Length || (ulong)(size * (long)count) > (ulong)runPage.Length - offset)
        {
            detail = $"malformed port I/O exit (port 0x{run->IoPort:x}, size {size}, count {count})";
            return ExitAction.Fatal;
        }

        var data = runPage.Slice((int)offset, size * count);
        for (int i = 0; i < count; i++)
        {
            var element = data.Slice(i * size, size);
            if (run->IoDirection == IoDirectionOut)
            {
                ports.Write(run->IoPort, element);
            }
            else
            {
                ports.Read(run->IoPort, element);
            }
        }

        return ExitAction.Continue;
    }

    private static ExitAction Fatal(out string? detail, string text)
    {
        detail = text;
        return ExitAction.Fatal;
    }
}
