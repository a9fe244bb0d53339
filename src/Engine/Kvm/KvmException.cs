using System.Runtime.InteropServices;

namespace Platform.Engine.Kvm;

/// <summary>A KVM call failed. Names the operation and errno and, where we know one, what to do about it.</summary>
public sealed class KvmException : Exception
{
    public KvmException(string operation, int errno, string? advice = null)
        : base(Format(operation, errno, advice))
    {
        Operation = operation;
        Errno = errno;
    }

    public KvmException()
    {
        Operation = "";
    }

    public KvmException(string message)
        : base(message)
    {
        Operation = "";
    }

    public KvmException(string message, Exception innerException)
        : base(message, innerException)
    {
        Operation = "";
    }

    public string Operation { get; }

    public int Errno { get; }

    private static string Format(string operation, int errno, string? advice)
    {
        string text = $"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
        return advice is null ? text : $"{text}. {advice}";
    }
}
