using System.Net;
using Platform.Engine.Display;

namespace Platform.Engine.Tests.Display;

// --vnc ADDR:PORT[,password-file=FILE]: QEMU's rule that only loopback may go without a password.
public sealed class VncListenOptionsTests : IDisposable
{
    private readonly string _passwordFile = Path.GetTempFileName();

    public void Dispose() => File.Delete(_passwordFile);

    [Theory]
    [InlineData("127.0.0.1:5901", "127.0.0.1", 5901)]
    [InlineData("localhost:5900", "127.0.0.1", 5900)]
    [InlineData("[::1]:5902", "::1", 5902)]
    [InlineData("127.0.0.2:0", "127.0.0.2", 0)]
    public void A_loopback_address_needs_no_password(string spec, string address, int port)
    {
        var options = VncListenOptions.Parse(spec);
        options.EndPoint.Should().Be(new IPEndPoint(IPAddress.Parse(address), port));
        options.Password.Should().BeNull();
    }

    [Theory]
    [InlineData("0.0.0.0:5901")]
    [InlineData("192.0.2.10:5901")]
    [InlineData("[::]:5901")]
    public void Any_other_address_is_refused_without_a_password(string spec)
    {
        var parse = () => VncListenOptions.Parse(spec);
        parse.Should().Throw<FormatException>().WithMessage("*not a loopback address*password-file=*");
    }

    [Fact]
    public void A_password_file_gives_its_first_line_and_never_shows_it()
    {
        File.WriteAllText(_passwordFile, "s3cret!\nignored\n");
        var options = VncListenOptions.Parse($"0.0.0.0:5901,password-file={_passwordFile}");
        options.Password.Should().Be("s3cret!");
        options.ToString().Should().NotContain("s3cret").And.Contain(_passwordFile);
    }

    [Theory]
    [InlineData("5901", "ADDR:PORT")]
    [InlineData("127.0.0.1:65536", "ADDR:PORT")]
    [InlineData("127.0.0.1:59x1", "ADDR:PORT")]
    [InlineData("::1:5901", "brackets")]
    [InlineData("vnc.example:5901", "not an IP address")]
    [InlineData("127.0.0.1:5901,password=x", "unknown option")]
    [InlineData("127.0.0.1:5901,password-file=/nonexistent/pass", "cannot read the password file")]
    public void Mistakes_are_named(string spec, string message)
    {
        var parse = () => VncListenOptions.Parse(spec);
        parse.Should().Throw<FormatException>().WithMessage($"*{message}*");
    }

    [Fact]
    public void An_empty_password_is_refused()
    {
        File.WriteAllText(_passwordFile, "\n");
        var parse = () => VncListenOptions.Parse($"127.0.0.1:5901,password-file={_passwordFile}");
        parse.Should().Throw<FormatException>().WithMessage("*empty first line*");
    }
}
