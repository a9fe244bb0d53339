using Platform.Web.Services.Vms;

namespace Platform.Web.Tests.Services.Vms;

public sealed class VmNameRulesTests
{
    [Theory]
    [InlineData("web")]
    [InlineData("Web-1")]
    [InlineData("9lives")]
    [InlineData("db_primary.eu")]
    [InlineData("a")]
    public void Accepts_names_of_letters_digits_dash_underscore_dot(string name) =>
        VmNameRules.Check(name).Should().BeNull();

    [Fact]
    public void Accepts_63_characters_and_refuses_64()
    {
        VmNameRules.Check(new string('a', 63)).Should().BeNull();
        VmNameRules.Check(new string('a', 64)).Should().Contain("at most 63");
    }

    [Theory]
    [InlineData("", "required")]
    [InlineData(null, "required")]
    [InlineData("-web", "starts with a letter or a digit")]
    [InlineData(".hidden", "starts with a letter or a digit")]
    [InlineData("web server", "not ' '")]
    [InlineData("web/1", "not '/'")]
    [InlineData("wéb", "not 'é'")]
    public void Refuses_other_names_saying_why(string? name, string reason) =>
        VmNameRules.Check(name).Should().Contain(reason);
}
