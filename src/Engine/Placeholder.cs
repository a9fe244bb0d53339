namespace Platform.Engine; internal static class Placeholder { }
