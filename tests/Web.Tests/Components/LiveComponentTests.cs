using Bunit;
using Microsoft.AspNetCore.Components.Rendering;
using Platform.Web.Components;

namespace Platform.Web.Tests.Components;

/// <summary>
/// A live component re-renders at most every <see cref="LiveComponent.MinRenderInterval"/>: the Host page of a
/// thousand running VMs got a Refresh for every VM's reading and rendered its whole table each time, and never came
/// up. Every update still shows, in the render that follows it.
/// </summary>
public sealed class LiveComponentTests : BunitContext
{
    [Fact]
    public async Task A_burst_of_refreshes_renders_at_once_then_once_more_with_the_last_update()
    {
        var cut = Render<Counter>();
        int rendersBefore = cut.Instance.Renders;

        for (int i = 1; i <= 500; i++)
        {
            cut.Instance.Bump(i);
        }

        cut.WaitForAssertion(() => cut.Find("span").TextContent.Should().Be("500"), TimeSpan.FromSeconds(5));
        await Task.Delay(LiveComponent.MinRenderInterval * 3, Xunit.TestContext.Current.CancellationToken);
        int renders = cut.Instance.Renders - rendersBefore;
        renders.Should().BeInRange(1, 3, "a burst costs a render now and one when the interval is up, not 500");
        cut.Find("span").TextContent.Should().Be("500", "the last update is shown");
    }

    [Fact]
    public async Task Refreshes_far_apart_each_render_at_once()
    {
        var cut = Render<Counter>();
        cut.Instance.Bump(1);
        cut.WaitForAssertion(() => cut.Find("span").TextContent.Should().Be("1"));
        await Task.Delay(LiveComponent.MinRenderInterval * 2, Xunit.TestContext.Current.CancellationToken);

        int before = cut.Instance.Renders;
        cut.Instance.Bump(2);
        // At once: bUnit's renderer has run the render by the time Refresh's work item is done.
        cut.WaitForAssertion(() => cut.Find("span").TextContent.Should().Be("2"), TimeSpan.FromMilliseconds(150));
        cut.Instance.Renders.Should().Be(before + 1);
    }

    /// <summary>Shows a number set from outside, as a subscription's handler would, and counts its renders.</summary>
    private sealed class Counter : LiveComponent
    {
        private int _value;

        public int Renders { get; private set; }

        public void Bump(int value) => Refresh(() => _value = value);

        protected override void BuildRenderTree(RenderTreeBuilder builder)
        {
            Renders++;
            builder.OpenElement(0, "span");
            builder.AddContent(1, _value);
            builder.CloseElement();
        }
    }
}
