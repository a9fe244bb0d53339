using Platform.Devices.Pci;

namespace Platform.Devices.Tests.Fakes;

/// <summary>Records MSI-X route changes and deliveries; tests can wait for a delivery from a worker thread.</summary>
public sealed class RecordingMsiTarget : IMsiTarget
{
    private readonly Lock _lock = new();
    private readonly List<(int Vector, MsiMessage Message, bool Masked)> _changes = [];
    private readonly List<(int Vector, MsiMessage Message)> _signals = [];
    private readonly SemaphoreSlim _signalled = new(0);

    public IReadOnlyList<(int Vector, MsiMessage Message, bool Masked)> Changes
    {
        get
        {
            lock (_lock)
            {
                return [.. _changes];
            }
        }
    }

    public IReadOnlyList<(int Vector, MsiMessage Message)> Signals
    {
        get
        {
            lock (_lock)
            {
                return [.. _signals];
            }
        }
    }

    public int SignalCount(int vector)
    {
        lock (_lock)
        {
            return _signals.Count(s => s.Vector == vector);
        }
    }

    public void VectorChanged(int vector, MsiMessage message, bool masked)
    {
        lock (_lock)
        {
            _changes.Add((vector, message, masked));
        }
    }

    public void Signal(int vector, MsiMessage message)
    {
        lock (_lock)
        {
            _signals.Add((vector, message));
        }

        _signalled.Release();
    }

    /// <summary>Waits for the next delivery (any vector); false if none came (the device never interrupted).</summary>
    public bool WaitForSignal() => _signalled.Wait(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

    public void Clear()
    {
        lock (_lock)
        {
            _changes.Clear();
            _signals.Clear();
        }

        while (_signalled.CurrentCount > 0)
        {
            _signalled.Wait(0, TestContext.Current.CancellationToken);
        }
    }
}
