namespace Platform.Engine.Boot;

/// <summary>A kernel or initrd that cannot be booted, with a message that says why in the user's terms.</summary>
public sealed class BootException : Exception
{
    public BootException()
    {
    }

    public BootException(string message)
        : base(message)
    {
    }

    public BootException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
