using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class VmHardwareImagesEvents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "Name",
                table: "VirtualMachines",
                type: "TEXT",
                maxLength: 63,
                nullable: false,
                collation: "NOCASE",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 63);

            migrationBuilder.AddColumn<string>(
                name: "BootMode",
                table: "VirtualMachines",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "Kernel");

            migrationBuilder.AddColumn<bool>(
                name: "DisplayEnabled",
                table: "VirtualMachines",
                type: "INTEGER",
                nullable: false,
                defaultValue: true);

            migrationBuilder.AddColumn<Guid>(
                name: "InitrdImageId",
                table: "VirtualMachines",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "KernelImageId",
                table: "VirtualMachines",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "OnReboot",
                table: "VirtualMachines",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                // What platform-vmm did for these VMs before the policy was stored: --on-reboot's default.
                defaultValue: "Exit");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "UpdatedAt",
                table: "VirtualMachines",
                type: "TEXT",
                nullable: false,
                defaultValue: new DateTimeOffset(new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)));

            // Existing rows get UpdatedAt from the next migration: SQL here would run while SQLite rebuilds the
            // table for the NOCASE name, which EF warns about on every fresh database.

            migrationBuilder.CreateTable(
                name: "Images",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    FileName = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false, collation: "NOCASE"),
                    SizeBytes = table.Column<long>(type: "INTEGER", nullable: false),
                    Sha256 = table.Column<string>(type: "TEXT", fixedLength: true, maxLength: 64, nullable: false),
                    UploadedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Images", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "VmEvents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    At = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    VmId = table.Column<Guid>(type: "TEXT", nullable: true),
                    VmName = table.Column<string>(type: "TEXT", maxLength: 63, nullable: true),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Message = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: false),
                    Result = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VmEvents", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "VmNics",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    VirtualMachineId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Position = table.Column<int>(type: "INTEGER", nullable: false),
                    TapName = table.Column<string>(type: "TEXT", maxLength: 15, nullable: false),
                    MacAddress = table.Column<string>(type: "TEXT", maxLength: 17, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VmNics", x => x.Id);
                    table.ForeignKey(
                        name: "FK_VmNics_VirtualMachines_VirtualMachineId",
                        column: x => x.VirtualMachineId,
                        principalTable: "VirtualMachines",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "VmDisks",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    VirtualMachineId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Position = table.Column<int>(type: "INTEGER", nullable: false),
                    ImageId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Path = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    ReadOnly = table.Column<bool>(type: "INTEGER", nullable: false),
                    Cache = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VmDisks", x => x.Id);
                    table.ForeignKey(
                        name: "FK_VmDisks_Images_ImageId",
                        column: x => x.ImageId,
                        principalTable: "Images",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_VmDisks_VirtualMachines_VirtualMachineId",
                        column: x => x.VirtualMachineId,
                        principalTable: "VirtualMachines",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_VirtualMachines_InitrdImageId",
                table: "VirtualMachines",
                column: "InitrdImageId");

            migrationBuilder.CreateIndex(
                name: "IX_VirtualMachines_KernelImageId",
                table: "VirtualMachines",
                column: "KernelImageId");

            migrationBuilder.CreateIndex(
                name: "IX_Images_FileName",
                table: "Images",
                column: "FileName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_VmDisks_ImageId",
                table: "VmDisks",
                column: "ImageId");

            migrationBuilder.CreateIndex(
                name: "IX_VmDisks_VirtualMachineId_Position",
                table: "VmDisks",
                columns: new[] { "VirtualMachineId", "Position" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_VmEvents_VmId",
                table: "VmEvents",
                column: "VmId");

            migrationBuilder.CreateIndex(
                name: "IX_VmNics_MacAddress",
                table: "VmNics",
                column: "MacAddress");

            migrationBuilder.CreateIndex(
                name: "IX_VmNics_VirtualMachineId_Position",
                table: "VmNics",
                columns: new[] { "VirtualMachineId", "Position" },
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_VirtualMachines_Images_InitrdImageId",
                table: "VirtualMachines",
                column: "InitrdImageId",
                principalTable: "Images",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_VirtualMachines_Images_KernelImageId",
                table: "VirtualMachines",
                column: "KernelImageId",
                principalTable: "Images",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_VirtualMachines_Images_InitrdImageId",
                table: "VirtualMachines");

            migrationBuilder.DropForeignKey(
                name: "FK_VirtualMachines_Images_KernelImageId",
                table: "VirtualMachines");

            migrationBuilder.DropTable(
                name: "VmDisks");

            migrationBuilder.DropTable(
                name: "VmEvents");

            migrationBuilder.DropTable(
                name: "VmNics");

            migrationBuilder.DropTable(
                name: "Images");

            migrationBuilder.DropIndex(
                name: "IX_VirtualMachines_InitrdImageId",
                table: "VirtualMachines");

            migrationBuilder.DropIndex(
                name: "IX_VirtualMachines_KernelImageId",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "BootMode",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "DisplayEnabled",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "InitrdImageId",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "KernelImageId",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "OnReboot",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "UpdatedAt",
                table: "VirtualMachines");

            migrationBuilder.AlterColumn<string>(
                name: "Name",
                table: "VirtualMachines",
                type: "TEXT",
                maxLength: 63,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 63,
                oldCollation: "NOCASE");
        }
    }
}
