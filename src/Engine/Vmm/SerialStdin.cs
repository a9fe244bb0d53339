using Platform.Engine.Host;

namespace Platform.Engine.Vmm;

/// <summary>Feeds the VMM's standard input to the guest's COM1, waiting when the UART's queue is full.</summary>
internal static class SerialStdin
{
    public static void Start(VmmHost host)
    {
        var thread = new Thread(() =>
        {
            using var stdin = Console.OpenStandardInput();
            byte[] buffer = new byte[4096];
            int read;
            while ((read = stdin.Read(buffer, 0, buffer.Length)) > 0)
            {
                var pending = buffer.AsSpan(0, read);
                while (!pending.IsEmpty)
                {
                    int taken = host.SendSerialInput(pending);
                    pending = pending[taken..];
                    if (taken == 0)
                    {
                        Thread.Sleep(5);
                    }
                }
            }
        })
        { IsBackground = true, Name = "serial-stdin" };
        thread.Start();
    }
}
