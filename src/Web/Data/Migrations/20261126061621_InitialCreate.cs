using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class InitialCreate : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "VirtualMachines",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    VcpuCount = table.Column<int>(type: "INTEGER", nullable: false),
                    MemoryMiB = table.Column<int>(type: "INTEGER", nullable: false),
                    KernelPath = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    InitrdPath = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    CommandLine = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    Autostart = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    ConcurrencyStamp = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VirtualMachines", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_VirtualMachines_Name",
                table: "VirtualMachines",
                column: "Name",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "VirtualMachines");
        }
    }
}
