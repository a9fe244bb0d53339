using System.Text;

namespace Platform.Engine.Tests.Infrastructure;

/// <summary>A write-only stream that collects what the guest printed and lets a test wait for a line.</summary>
public sealed class SerialCapture : Stream
{
    private readonly StringBuilder _text = new();
    private readonly Lock _lock = new();

    public string Text
    {
        get
        {
            lock (_lock)
            {
                return _text.ToString();
            }
        }
    }

    public async Task<string> WaitForAsync(string marker, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            string text = Text;
            if (text.Contains(marker, StringComparison.Ordinal))
            {
                return text;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"The guest did not print \"{marker}\" within {timeout.TotalSeconds} s. It printed:\n{Text}");
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_lock)
        {
            foreach (byte b in buffer)
            {
                _text.Append((char)b);
            }
        }
    }

    public override void WriteByte(byte value)
    {
        lock (_lock)
        {
            _text.Append((char)value);
        }
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
