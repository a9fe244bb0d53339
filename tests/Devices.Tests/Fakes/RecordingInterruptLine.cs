using Platform.Devices.Abstractions;

namespace Platform.Devices.Tests.Fakes;

/// <summary>An interrupt line that remembers its level and every edge, for asserting on what a device raised.</summary>
public sealed class RecordingInterruptLine : IInterruptLine
{
    public bool Asserted { get; private set; }

    public int RisingEdges { get; private set; }

    public void SetLevel(bool asserted)
    {
        if (asserted && !Asserted)
        {
            RisingEdges++;
        }

        Asserted = asserted;
    }
}
