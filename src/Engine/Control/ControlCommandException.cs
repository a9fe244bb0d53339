namespace Platform.Engine.Control;

/// <summary>A command refused for a reason a client can branch on: the reply's error <see cref="ErrorClass"/> (<see cref="ControlProtocol.ErrorClasses"/>).</summary>
public sealed class ControlCommandException : Exception
{
    public ControlCommandException()
    {
        ErrorClass = ControlProtocol.ErrorClasses.Failed;
    }

    public ControlCommandException(string message)
        : base(message)
    {
        ErrorClass = ControlProtocol.ErrorClasses.Failed;
    }

    public ControlCommandException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorClass = ControlProtocol.ErrorClasses.Failed;
    }

    public ControlCommandException(string errorClass, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorClass = errorClass;
    }

    public string ErrorClass { get; }
}
