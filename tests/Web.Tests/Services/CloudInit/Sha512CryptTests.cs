using Platform.Web.Services.CloudInit;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.CloudInit;

/// <summary>SHA-512 crypt against the reference, <c>openssl passwd -6</c> (what glibc's crypt(3) checks at login).</summary>
public sealed class Sha512CryptTests
{
    [Theory]
    [InlineData("secret", "saltsalt")]
    [InlineData("x", "a")]
    [InlineData("correct horse battery staple", "0123456789abcdef")]
    [InlineData("a password longer than sixty-four bytes, which takes the other branch of the first digest loop", "Zz./09")]
    [InlineData("pässwörd ünïcode", "UTF8salt")]
    public void Hashes_as_openssl_passwd_does(string password, string salt)
    {
        var (code, output) = QemuTools.Run("openssl", "passwd", "-6", "-salt", salt, password);
        code.Should().Be(0, output);

        Sha512Crypt.Hash(password, salt).Should().Be(output.Trim());
    }

    [Fact]
    public void A_fresh_salt_each_time_in_the_crypt_alphabet()
    {
        string first = Sha512Crypt.Hash("same"), second = Sha512Crypt.Hash("same");

        first.Should().NotBe(second);
        first.Should().MatchRegex(@"^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$");
        Sha512Crypt.IsHash(first).Should().BeTrue();
        string salt = first.Split('$')[2];
        var (_, output) = QemuTools.Run("openssl", "passwd", "-6", "-salt", salt, "same");
        first.Should().Be(output.Trim(), "a login with the password would match the hash");
    }
}
