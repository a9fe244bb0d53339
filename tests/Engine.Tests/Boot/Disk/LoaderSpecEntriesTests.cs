using Platform.Engine.Boot.Disk;

namespace Platform.Engine.Tests.Boot.Disk;

// Boot Loader Spec type #1 entries: parsing, the specification's order, and how the default is chosen.
public sealed class LoaderSpecEntriesTests
{
    [Fact]
    public void An_entry_has_its_linux_initrds_and_options_joined()
    {
        var entry = LoaderSpecEntries.Parse("6a9857a3-6.8.5-301.fc40.x86_64.conf", """
            # Boot Loader Specification type#1 entry
            title      Fedora Linux 40
            version 6.8.5-301.fc40.x86_64
            machine-id 6a9857a393724b7a981ebb5b8495b9ea
            linux   /6a9857a3/6.8.5-301.fc40.x86_64/linux
            initrd  /6a9857a3/6.8.5-301.fc40.x86_64/microcode.cpio
            initrd  /6a9857a3/6.8.5-301.fc40.x86_64/initrd
            options root=UUID=5b8e6a3c ro
            options quiet   splash
            unknown-key is ignored
            """);

        entry.Id.Should().Be("6a9857a3-6.8.5-301.fc40.x86_64");
        entry.Title.Should().Be("Fedora Linux 40");
        entry.Linux.Should().Be("/6a9857a3/6.8.5-301.fc40.x86_64/linux");
        entry.Initrds.Should().Equal("/6a9857a3/6.8.5-301.fc40.x86_64/microcode.cpio", "/6a9857a3/6.8.5-301.fc40.x86_64/initrd");
        entry.Options.Should().Equal("root=UUID=5b8e6a3c ro", "quiet   splash");
    }

    [Fact]
    public void Entries_sort_by_sort_key_then_newest_version_and_the_rest_by_file_name_newest_first()
    {
        var entries = new[]
        {
            new LoaderSpecEntries.Entry("zzz-no-key", "zzz-no-key.conf") { Linux = "/a" },
            new LoaderSpecEntries.Entry("fedora-6.9.1", "fedora-6.9.1.conf") { Linux = "/b", SortKey = "fedora", Version = "6.9.1" },
            new LoaderSpecEntries.Entry("fedora-6.10.0", "fedora-6.10.0.conf") { Linux = "/c", SortKey = "fedora", Version = "6.10.0" },
            new LoaderSpecEntries.Entry("arch", "arch.conf") { Linux = "/d", SortKey = "arch", Version = "1" },
            new LoaderSpecEntries.Entry("debian-6.1.0-9", "debian-6.1.0-9.conf") { Linux = "/e" },
            new LoaderSpecEntries.Entry("debian-6.1.0-13", "debian-6.1.0-13.conf") { Linux = "/f" },
        };

        LoaderSpecEntries.Sort(entries).Select(e => e.Id).Should().Equal(
            "arch", "fedora-6.10.0", "fedora-6.9.1", "zzz-no-key", "debian-6.1.0-13", "debian-6.1.0-9");
    }

    [Fact]
    public void Loader_conf_default_glob_then_saved_entry_choose_otherwise_the_first()
    {
        var entries = new[]
        {
            new LoaderSpecEntries.Entry("fedora-6.9", "fedora-6.9.conf") { Linux = "/a", SortKey = "fedora", Version = "6.9" },
            new LoaderSpecEntries.Entry("fedora-6.8", "fedora-6.8.conf") { Linux = "/b", SortKey = "fedora", Version = "6.8" },
        };
        var notes = new List<string>();

        LoaderSpecEntries.Choose(entries, "*6.8*", null, notes)!.Id.Should().Be("fedora-6.8");
        LoaderSpecEntries.Choose(entries, null, "fedora-6.8", notes)!.Id.Should().Be("fedora-6.8");
        LoaderSpecEntries.Choose(entries, null, null, notes)!.Id.Should().Be("fedora-6.9");
        notes.Should().BeEmpty();

        LoaderSpecEntries.Choose(entries, "@saved", null, notes)!.Id.Should().Be("fedora-6.9");
        LoaderSpecEntries.Choose(entries, "nothing*", null, notes)!.Id.Should().Be("fedora-6.9");
        notes.Should().HaveCount(2);
    }

    [Fact]
    public void Entries_for_another_architecture_or_without_linux_are_skipped_with_a_note()
    {
        var entries = new[]
        {
            new LoaderSpecEntries.Entry("uki", "uki.conf") { Efi = "/EFI/Linux/fedora.efi" },
            new LoaderSpecEntries.Entry("arm", "arm.conf") { Linux = "/Image", Architecture = "aa64" },
        };
        var notes = new List<string>();

        LoaderSpecEntries.Choose(entries, null, null, notes).Should().BeNull();
        notes.Should().Equal(
            "uki.conf: boots an EFI program (/EFI/Linux/fedora.efi), which needs firmware; skipped",
            "arm.conf: for architecture aa64, not x64; skipped");
    }

    [Theory]
    [InlineData("6.10.0", "6.9.1", 1)]
    [InlineData("6.1.0-13-amd64", "6.1.0-9-amd64", 1)]
    [InlineData("1.0~rc1", "1.0", -1)]
    [InlineData("1.0a", "1.0", 1)]
    [InlineData("1.0", "1.0.0", -1)]
    [InlineData("2", "a", 1)]
    [InlineData("007", "7", 0)]
    public void Versions_compare_as_the_specification_says(string a, string b, int order)
    {
        VersionComparer.Instance.Compare(a, b).Should().Be(order);
        VersionComparer.Instance.Compare(b, a).Should().Be(-order);
    }

    [Theory]
    [InlineData("fedora-*", "fedora-6.9", true)]
    [InlineData("*-6.?", "fedora-6.9", true)]
    [InlineData("*-6.?", "fedora-6.10", false)]
    [InlineData("a*b*c*d*e*f*g*h*i*j*k*l*m*n*o*p*q*", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    public void Globs_match_without_backtracking_blowup(string pattern, string text, bool matches) =>
        Glob.Matches(pattern, text).Should().Be(matches);

    [Fact]
    public void Grubenv_is_parsed_and_variables_expanded()
    {
        var environment = GrubEnvironment.Parse(
            "# GRUB Environment Block\nsaved_entry=fedora-6.9\nkernelopts=root=UUID=x ro\\\\quiet\n" + new string('#', 900));
        var unresolved = new List<string>();

        environment.Should().BeEquivalentTo(new Dictionary<string, string> { ["saved_entry"] = "fedora-6.9", ["kernelopts"] = "root=UUID=x ro\\quiet" });
        GrubEnvironment.Expand("$kernelopts ${saved_entry} $tuned_params x$", environment, unresolved)
            .Should().Be("root=UUID=x ro\\quiet fedora-6.9  x$");
        unresolved.Should().Equal("tuned_params");
    }
}
