# Multi-stage build of the dashboard (and the NativeAOT platform-vmm beside it).
# Run with KVM:  docker run --device /dev/kvm -p 127.0.0.1:5000:5000 platform
FROM mcr.microsoft.com/dotnet/sdk:10.0-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm clang zlib1g-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN dotnet publish src/Web/Web.csproj -c Release -o /app \
 && dotnet publish src/Engine/Vmm/Vmm.csproj -c Release -r linux-x64 -o /app/vmm

FROM mcr.microsoft.com/dotnet/aspnet:10.0-bookworm-slim
# xorriso writes the cloud-init seed images (ISO 9660 labelled cidata) of VMs with cloud-init.
RUN apt-get update && apt-get install -y --no-install-recommends xorriso && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
# VMs run the NativeAOT platform-vmm in /app/vmm (VmmLocator finds it beside the dashboard; the Host page says so).
ENV ASPNETCORE_URLS=http://0.0.0.0:5000 \
    Platform__DataDirectory=/var/lib/platform
VOLUME /var/lib/platform
EXPOSE 5000
ENTRYPOINT ["dotnet", "Platform.Web.dll"]
