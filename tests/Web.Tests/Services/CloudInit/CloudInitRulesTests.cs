using Platform.Web.Services.CloudInit;
using Platform.Web.Tests.Infrastructure;

namespace Platform.Web.Tests.Services.CloudInit;

/// <summary>What the cloud-init settings accept: real keys from ssh-keygen, host names and user names by their rules.</summary>
public sealed class CloudInitRulesTests
{
    /// <summary>A real public key of <paramref name="type"/>, made by ssh-keygen.</summary>
    internal static string PublicKey(string type = "ed25519", string comment = "alice@laptop")
    {
        string folder = Directory.CreateTempSubdirectory("platform-key-").FullName;
        try
        {
            string key = Path.Combine(folder, "id");
            var (code, output) = QemuTools.Run("ssh-keygen", "-q", "-t", type, "-N", "", "-C", comment, "-f", key);
            code.Should().Be(0, output);
            return File.ReadAllText(key + ".pub").Trim();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("ed25519")]
    [InlineData("rsa")]
    [InlineData("ecdsa")]
    public void Public_keys_from_ssh_keygen_pass(string type)
    {
        CloudInitRules.CheckPublicKey(PublicKey(type)).Should().BeNull();
    }

    [Fact]
    public void A_key_cut_short_mislabelled_or_private_is_refused_with_the_reason()
    {
        string key = PublicKey();
        string[] parts = key.Split(' ');

        CloudInitRules.CheckPublicKey($"{parts[0]} {parts[1][..20]}!").Should().Contain("not valid base64");
        CloudInitRules.CheckPublicKey($"ssh-rsa {parts[1]}").Should().Contain("not a ssh-rsa key");
        CloudInitRules.CheckPublicKey("-----BEGIN OPENSSH PRIVATE KEY-----").Should().Contain("private key");
        CloudInitRules.CheckPublicKey("ssh-dss AAAAB3NzaC1kc3MAAACBA").Should().Contain("starts with its type");
        CloudInitRules.CheckPublicKey($"no-pty {key}").Should().Contain("starts with its type", "options before the key are not taken");
    }

    [Theory]
    [InlineData("web01", null)]
    [InlineData("web-01.example.org", null)]
    [InlineData("-web", "not a host name")]
    [InlineData("web_01", "not a host name")]
    [InlineData("a..b", "not a host name")]
    [InlineData("123", "all digits")]
    public void Host_names_follow_rfc_1123(string hostname, string? problem)
    {
        var result = CloudInitRules.CheckHostname(hostname);
        if (problem is null)
        {
            result.Should().BeNull();
        }
        else
        {
            result.Should().Contain(problem);
        }

        CloudInitRules.CheckHostname(new string('a', 64)).Should().Contain("1 to 63");
        CloudInitRules.CheckHostname(string.Join('.', Enumerable.Repeat(new string('a', 60), 5))).Should().Contain("at most 253");
    }

    [Fact]
    public void The_vm_name_becomes_a_host_name()
    {
        CloudInitRules.HostnameFor("Web Server #1").Should().Be("web-server--1");
        CloudInitRules.HostnameFor("42").Should().Be("vm-42");
        CloudInitRules.CheckHostname(CloudInitRules.HostnameFor(new string('x', 100))).Should().BeNull();
    }

    [Fact]
    public void Each_bad_field_is_named_and_a_user_with_no_way_in_is_refused()
    {
        var errors = CloudInitRules.Validate(new CloudInitInput
        {
            Hostname = "bad_host", UserName = "Root", SshAuthorizedKeys = "ssh-ed25519 notakey", Packages = "nginx Bad_Name", UserData = "users: []",
        }, passwordHashKept: false);

        errors.Keys.Should().BeEquivalentTo(["hostname", "userName", "sshAuthorizedKeys", "packages", "userData"]);
        errors["sshAuthorizedKeys"][0].Should().StartWith("Line 1:");
        errors["packages"][0].Should().Contain("Bad_Name");
        errors["userData"][0].Should().Contain("#cloud-config");

        CloudInitRules.Validate(new CloudInitInput { UserName = "root", Password = "pw" }, false)["userName"][0].Should().Contain("system user");
        CloudInitRules.Validate(new CloudInitInput { UserName = "alice" }, false)["sshAuthorizedKeys"][0].Should().Contain("password or an SSH public key");
        CloudInitRules.Validate(new CloudInitInput { UserName = "alice" }, passwordHashKept: true).Should().BeEmpty("the stored password is kept");
        CloudInitRules.Validate(new CloudInitInput { UserName = "alice", Password = "" }, passwordHashKept: true).Should().ContainKey("sshAuthorizedKeys",
            "removing the only password leaves no way in");
        CloudInitRules.Validate(new CloudInitInput { UserName = "alice", Password = "a\nb" }, false)["password"][0].Should().Contain("control characters");
        CloudInitRules.Validate(new CloudInitInput { UserName = "alice", SshAuthorizedKeys = $"# laptop\n{PublicKey()}\n\n" }, false).Should().BeEmpty();
    }
}
